#!/usr/bin/env bash
# make install PREFIX=...: the command, the library (+ pkg-config file), the header, and the
# gdb and lldb wrappers with the module they share (python/grpcscope_lib.py).
set -euo pipefail
prefix=$1 build=$2
cd "$(dirname "$0")/.."
install -d "$prefix/bin" "$prefix/lib/pkgconfig" "$prefix/include" "$prefix/share/grpcscope"
install -m 755 "$build/grpcscope" "$prefix/bin/"
install -m 644 "$build/libgrpcscope.a" "$build/libgrpcscope.so" "$prefix/lib/"
install -m 644 analyzer/include/grpcscope.h "$prefix/include/"
for f in gdb/grpcscope.py lldb/grpcscope.py python/grpcscope_lib.py; do
  [ -f "$f" ] && install -D -m 644 "$f" "$prefix/share/grpcscope/$f"
done
# lldb with the environment its Python needs and grpcscope loaded (lldb/grpcscope-lldb)
install -m 755 lldb/grpcscope-lldb "$prefix/bin/"
cat > "$prefix/lib/pkgconfig/grpcscope.pc" <<PC
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: grpcscope
Description: which goroutine of a frozen Go gRPC process waits on what, and why
Version: $(sed -n 's/#define GS_VERSION "\(.*\)"/\1/p' analyzer/include/grpcscope.h)
Libs: -L\${libdir} -lgrpcscope
Libs.private: -ldwarf -lelf -ldeflate -lz -lzstd -llzma -llz4 -pthread
Cflags: -I\${includedir}
PC
echo "installed into $prefix"
[ -f "$prefix/share/grpcscope/gdb/grpcscope.py" ] && echo "gdb:  add to ~/.gdbinit:   source $prefix/share/grpcscope/gdb/grpcscope.py"
[ -f "$prefix/share/grpcscope/lldb/grpcscope.py" ] && echo "lldb: run $prefix/bin/grpcscope-lldb, or add to ~/.lldbinit:  command script import $prefix/share/grpcscope/lldb/grpcscope.py"
exit 0
