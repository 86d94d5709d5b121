/* qbuild_write / qbuild_exit for hosted boards: plain stdio. */
#include <stdio.h>
#include <stdlib.h>

#include "qbuild_board.h"

void qbuild_write(const char* s, size_t n) {
    fwrite(s, 1, n, stdout);
}

void qbuild_exit(int code) {
    fflush(stdout);
    exit(code);
}
