// valueprog holds Go values with known contents in globals, prints the facts a reader must
// find in its memory, then prints READY and waits to be frozen (gcore) by
// tests/unit/data/build-valuecores.sh.
package main

import (
	"context"
	"fmt"
	"runtime"
	"time"
)

type T struct {
	A int
	B string
}

type Namer interface{ Name() string }

func (t *T) Name() string { return t.B }

type ctxKey struct{}

var (
	smallMap  map[int]string
	bigMap    map[string]int
	bigKeyMap map[[200]byte]int
	growMap   map[int]int
	anyVal    interface{}
	namerVal  Namer

	ctxChain     context.Context
	ctxCancelled context.Context
	ctxExpired   context.Context
	keepCancel   []context.CancelFunc
)

func main() {
	smallMap = map[int]string{1: "one", 2: "two", 3: "three", 42: "forty-two", -7: "minus seven"}
	bigMap = make(map[string]int)
	for i := 0; i < 1000; i++ {
		bigMap[fmt.Sprintf("k%d", i)] = i * 3
	}
	bigKeyMap = make(map[[200]byte]int)
	for i := 0; i < 10; i++ {
		var k [200]byte
		k[0], k[199] = byte(i), byte(i+1)
		bigKeyMap[k] = i * 10
	}
	// A classic map grows from B=5 to B=6 on its 209th insert; the growth is incremental,
	// so right after that insert oldbuckets is still set (Go <= 1.23).
	growMap = make(map[int]int)
	for i := 0; i < 209; i++ {
		growMap[i*7] = i + 1000
	}
	anyVal = &T{A: 7, B: "seven"}
	namerVal = &T{A: 8, B: "eight"}

	c1, cancel1 := context.WithCancel(context.Background())
	lo := time.Now().UnixNano()
	c2, cancel2 := context.WithTimeout(c1, time.Hour)
	hi := time.Now().UnixNano()
	ctxChain = context.WithValue(c2, ctxKey{}, "v")
	c4, cancel4 := context.WithCancel(context.Background())
	cancel4()
	ctxCancelled = c4
	c5, cancel5 := context.WithTimeout(context.Background(), time.Nanosecond)
	<-c5.Done()
	ctxExpired = c5
	keepCancel = []context.CancelFunc{cancel1, cancel2, cancel5}

	fmt.Printf("go_version %s\n", runtime.Version())
	fmt.Printf("small_count %d\nbig_count %d\nbigkey_count %d\ngrow_count %d\n",
		len(smallMap), len(bigMap), len(bigKeyMap), len(growMap))
	fmt.Printf("deadline_lo %d\ndeadline_hi %d\n", lo+int64(time.Hour), hi+int64(time.Hour))
	fmt.Println("READY")
	for {
		time.Sleep(time.Hour)
	}
}
