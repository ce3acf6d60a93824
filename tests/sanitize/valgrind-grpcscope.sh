#!/usr/bin/env bash
# GS_BIN for the integration tests under valgrind memcheck: any invalid access or definite
# leak makes the run exit 99 (a test failure). GS_VALGRIND_BIN overrides the binary.
here=$(cd "$(dirname "$0")/../.." && pwd)
exec valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
  --show-leak-kinds=definite --track-origins=no --num-callers=30 \
  "${GS_VALGRIND_BIN:-$here/build/grpcscope}" "$@"
