/* qbuild_write / qbuild_exit over Arm semihosting (QEMU: -semihosting-config enable=on,...).
 * The exit uses SYS_EXIT_EXTENDED so QEMU's own exit status is the firmware's. Without a debugger/QEMU attached
 * the BKPT instruction faults, so only use this on boards that always run under one. */
#include <stdint.h>

#include "qbuild_board.h"

enum {
    SYS_OPEN = 0x01,
    SYS_WRITE = 0x05,
    SYS_WRITE0 = 0x04,
    SYS_EXIT_EXTENDED = 0x20,
    ADP_STOPPED_APPLICATION_EXIT = 0x20026,
    OPEN_MODE_W = 4, /* "w": ":tt" opened for writing is the console */
};

static uintptr_t semihost(uintptr_t op, const void* arg) {
    register uintptr_t r0 __asm("r0") = op;
    register const void* r1 __asm("r1") = arg;
    __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static intptr_t console = -1;

void qbuild_write(const char* s, size_t n) {
    if (console < 0) {
        const uintptr_t open_args[3] = {(uintptr_t)":tt", OPEN_MODE_W, 3};
        console = (intptr_t)semihost(SYS_OPEN, open_args);
    }
    if (console >= 0) {
        const uintptr_t write_args[3] = {(uintptr_t)console, (uintptr_t)s, n};
        semihost(SYS_WRITE, write_args);
        return;
    }
    /* No console handle: fall back to NUL-terminated chunks. */
    char chunk[65];
    while (n > 0) {
        size_t k = n < 64 ? n : 64;
        for (size_t i = 0; i < k; i++) chunk[i] = s[i];
        chunk[k] = '\0';
        semihost(SYS_WRITE0, chunk);
        s += k;
        n -= k;
    }
}

void qbuild_exit(int code) {
    const uintptr_t args[2] = {ADP_STOPPED_APPLICATION_EXIT, (uintptr_t)code};
    semihost(SYS_EXIT_EXTENDED, args);
    for (;;) {
    }
}
