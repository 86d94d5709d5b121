/* Minimal newlib system calls for bare-metal qbuild firmware: output goes to qbuild_write, the heap is the linker
 * script's .heap reservation (heap_size in the board file), everything else fails politely. Plus the few C++ ABI
 * symbols that -fno-exceptions -fno-rtti code still references (there is no ARM libstdc++ to link). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "qbuild_board.h"

extern char __HeapBase[], __HeapLimit[];

void* _sbrk(ptrdiff_t increment) {
    static char* brk = __HeapBase;
    if (increment < 0 ? brk + increment < __HeapBase : increment > __HeapLimit - brk) {
        errno = ENOMEM;
        return (void*)-1;
    }
    char* old = brk;
    brk += increment;
    return old;
}

int _write(int fd, const char* buf, int len) {
    (void)fd;
    qbuild_write(buf, (size_t)len);
    return len;
}

int _read(int fd, char* buf, int len) {
    (void)fd;
    (void)buf;
    (void)len;
    return 0;
}

int _close(int fd) {
    (void)fd;
    return -1;
}

int _fstat(int fd, struct stat* st) {
    (void)fd;
    st->st_mode = S_IFCHR;
    return 0;
}

int _isatty(int fd) {
    (void)fd;
    return 1;
}

int _lseek(int fd, int offset, int whence) {
    (void)fd;
    (void)offset;
    (void)whence;
    return 0;
}

int _getpid(void) {
    return 1;
}

int _kill(int pid, int sig) {
    (void)pid;
    (void)sig;
    errno = EINVAL;
    return -1;
}

void _exit(int code) {
    qbuild_exit(code);
}

/* -nostartfiles drops crti/crtn; __libc_init_array still calls these. */
void _init(void) {}
void _fini(void) {}

/* C++ ABI: a pure virtual call is a bug; sized/unsized delete come from virtual destructors (never called: no heap). */
void __cxa_pure_virtual(void) {
    static const char msg[] = "qbuild: pure virtual call\n";
    qbuild_write(msg, sizeof msg - 1);
    qbuild_exit(136);
}
__attribute__((weak)) void _ZdlPv(void* p) { (void)p; }
__attribute__((weak)) void _ZdlPvj(void* p, unsigned n) { (void)p; (void)n; }
void* __dso_handle = 0;
