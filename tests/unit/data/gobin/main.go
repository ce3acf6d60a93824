// Test program for the binary-layer unit tests. The tests assert the line numbers
// marked LINE below, so keep this file's layout stable.
package main

import (
	"fmt"
	"os"
	"sync"
)

//go:noinline
func leaf(n int) int { // LINE leaf=12
	return n*3 + 1
}

// small enough that the compiler inlines it into caller
func inlined(n int) int {
	return leaf(n) + 7 // LINE inlined call=18
}

//go:noinline
func caller(n int) int { // LINE caller=22
	x := inlined(n) // LINE caller call=23
	return x * 2
}

//go:noinline
func recurse(n int) int { // LINE recurse=28
	if n <= 0 {
		return 0
	}
	return recurse(n-1) + 1
}

func main() {
	var wg sync.WaitGroup
	wg.Add(1)
	res := 0
	go func() {
		defer wg.Done()
		res = recurse(len(os.Args) + 3)
	}()
	wg.Wait()
	fmt.Println(caller(len(os.Args)), res)
}
