/* The application's own minimal startup: vector table, .data copy, .bss zero, constructors, main. */
#include <stdint.h>
#include <string.h>

extern uint32_t _stack_top[], _sidata[], _sdata[], _edata[], _sbss[], _ebss[];
extern void (*__init_array_start[])(void), (*__init_array_end[])(void);
int main(void);

void Reset_Handler(void) {
  *(volatile uint32_t*)0xE000ED88u |= 0xFu << 20; /* FPU on (CP10/CP11) */
  __asm volatile("dsb\n\tisb" ::: "memory");
  memcpy(_sdata, _sidata, (size_t)((char*)_edata - (char*)_sdata));
  memset(_sbss, 0, (size_t)((char*)_ebss - (char*)_sbss));
  for (void (**f)(void) = __init_array_start; f < __init_array_end; ++f) (*f)();
  main();
  for (;;) {
  }
}

static void Default_Handler(void) {
  for (;;) {
  }
}

__attribute__((section(".vectors"), used)) void (*const vectors[16])(void) = {
    (void (*)(void))_stack_top, Reset_Handler, Default_Handler, Default_Handler,
};

void __cxa_pure_virtual(void) { Default_Handler(); }
void* __dso_handle = 0;
