/* Application of the foreign ELF fixture: data, bss, a constructor (.init_array), a function run from RAM
 * (.ramfunc: writable + executable, loaded from flash) and unwind tables (.ARM.exidx via -funwind-tables). */
const unsigned char lookup_table[300] = {1, 2, 3};
int counter = 5;
unsigned char scratch[2000];

__attribute__((section(".ramfunc"), noinline, long_call)) int fast_add(int a, int b) {
    return a + b + scratch[a];
}

static int ready;
__attribute__((constructor)) static void init(void) { ready = 1; }

int main(void) {
    scratch[counter] = lookup_table[counter];
    return fast_add(counter, ready);
}
