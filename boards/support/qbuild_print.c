/* qbuild_print*: the console output generated firmware uses, on top of the board's qbuild_write. */
#include <string.h>

#include "qbuild_board.h"

void qbuild_print(const char* s) { qbuild_write(s, strlen(s)); }

void qbuild_print_dec(int32_t v) {
    char buf[12];
    char* p = buf + sizeof(buf);
    uint32_t u = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
    do {
        *--p = (char)('0' + u % 10u);
        u /= 10u;
    } while (u != 0u);
    if (v < 0) *--p = '-';
    qbuild_write(p, (size_t)(buf + sizeof(buf) - p));
}

void qbuild_print_hex32(uint32_t v) {
    static const char kDigits[] = "0123456789abcdef";
    char buf[8];
    for (int i = 7; i >= 0; --i, v >>= 4) buf[i] = kDigits[v & 0xfu];
    qbuild_write(buf, sizeof(buf));
}
