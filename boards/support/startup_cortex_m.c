/* Cortex-M startup for qbuild firmware (linked with -nostartfiles and qbuild's generated linker script), for the
 * Armv6-M cores (Cortex-M0, M0+) and the Armv7-M and Armv8-M mainline cores (Cortex-M3, M4, M7, M33, M55).
 * Reset: enable the FPU (when the core has one), set the stack limit (Armv8-M: MSPLIM), copy .data, zero .bss, run
 * constructors, main(), qbuild_exit(ret). On Armv6-M and Armv7-M there is no stack limit register: an overflow is
 * not trapped. Only the 16 system exceptions are in the vector table: firmware that uses peripheral interrupts brings
 * its own startup (or vector table) and keeps this file out of the build.
 * Armv6-M is Thumb-1 only: this file sticks to instructions every Cortex-M has, and reads no fault status registers
 * (Armv6-M has no CFSR/HFSR; reading them is a bus fault). */
#include <stdint.h>

#include "qbuild_board.h"

#if defined(__ARM_ARCH_6M__)
#define QBUILD_ARMV6M 1 /* Cortex-M0/M0+: no MemManage/BusFault/UsageFault/DebugMon, no CFSR/HFSR, VTOR optional */
#elif defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_8M_MAIN__) || \
    defined(__ARM_ARCH_8_1M_MAIN__)
#define QBUILD_ARMV6M 0
#else
#error "startup_cortex_m.c supports Armv6-M (Cortex-M0/M0+) and Armv7-M/Armv8-M mainline (Cortex-M3/M4/M7/M33/M55)"
#endif
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
#define QBUILD_HAS_MSPLIM 1 /* Armv8-M mainline: stack limit register, SecureFault */
#else
#define QBUILD_HAS_MSPLIM 0
#endif

extern uint32_t __StackTop[], __StackLimit[];
extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[];

extern void __libc_init_array(void);
extern int main(void);

void Reset_Handler(void);
void Default_Handler(void);
void HardFault_Handler(void);
void NMI_Handler(void) __attribute__((weak, alias("Default_Handler")));
#if QBUILD_ARMV6M /* reserved vectors on Armv6-M: every fault is a HardFault */
#define MemManage_Handler 0
#define BusFault_Handler 0
#define UsageFault_Handler 0
#define DebugMon_Handler 0
#else
void MemManage_Handler(void) __attribute__((weak, alias("HardFault_Handler")));
void BusFault_Handler(void) __attribute__((weak, alias("HardFault_Handler")));
void UsageFault_Handler(void) __attribute__((weak, alias("HardFault_Handler")));
void DebugMon_Handler(void) __attribute__((weak, alias("Default_Handler")));
#endif
#if QBUILD_HAS_MSPLIM
void SecureFault_Handler(void) __attribute__((weak, alias("HardFault_Handler")));
#else
#define SecureFault_Handler 0 /* reserved on Armv6-M and Armv7-M */
#endif
void SVC_Handler(void) __attribute__((weak, alias("Default_Handler")));
void PendSV_Handler(void) __attribute__((weak, alias("Default_Handler")));
void SysTick_Handler(void) __attribute__((weak, alias("Default_Handler")));

typedef void (*vector_t)(void);

/* Placed first in flash by the linker script (KEEP(*(.vectors))). */
__attribute__((section(".vectors"), used)) const vector_t __vector_table[16] = {
    (vector_t)__StackTop, Reset_Handler,    NMI_Handler,        HardFault_Handler,
    MemManage_Handler,    BusFault_Handler, UsageFault_Handler, SecureFault_Handler,
    0,                    0,                0,                  SVC_Handler,
    DebugMon_Handler,     0,                PendSV_Handler,     SysTick_Handler,
};

#define SCB_VTOR (*(volatile uint32_t*)0xE000ED08u)
#define SCB_CPACR (*(volatile uint32_t*)0xE000ED88u)
#define SCB_CFSR (*(volatile uint32_t*)0xE000ED28u)
#define SCB_HFSR (*(volatile uint32_t*)0xE000ED2Cu)
#define CFSR_STKOF (1u << 20) /* UsageFault: the stack pointer went below MSPLIM */

void Reset_Handler(void) {
#ifdef __ARM_FP
    /* CP10/CP11 full access before any floating-point instruction, or the first one faults. */
    SCB_CPACR |= 0xFu << 20;
    __asm volatile("dsb\n\tisb" ::: "memory");
#endif
#if QBUILD_HAS_MSPLIM
    /* Armv8-M stack limit: a stack overflow becomes a UsageFault (STKOF) instead of silently corrupting the heap. */
    __asm volatile("msr msplim, %0" : : "r"(__StackLimit));
#endif
#if QBUILD_ARMV6M
    /* VTOR is optional on Armv6-M (the Cortex-M0 has none): the core boots from a table at 0, so only a table
     * elsewhere (an M0+ behind a bootloader) needs it, and such parts implement it. */
    if ((uintptr_t)__vector_table != 0) SCB_VTOR = (uint32_t)(uintptr_t)__vector_table;
#else
    SCB_VTOR = (uint32_t)(uintptr_t)__vector_table;
#endif

    for (uint32_t *src = _sidata, *dst = _sdata; dst < _edata;) *dst++ = *src++;
    for (uint32_t* dst = _sbss; dst < _ebss;) *dst++ = 0;

    __libc_init_array();
    qbuild_exit(main());
}

static void write_str(const char* s) {
    size_t n = 0;
    while (s[n]) n++;
    qbuild_write(s, n);
}

static void write_hex(uint32_t v) {
    char buf[10] = {'0', 'x'};
    for (int i = 0; i < 8; i++) buf[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 0xF];
    qbuild_write(buf, sizeof buf);
}

/* frame: the exception stack frame (r0-r3, r12, lr, pc, xpsr). */
__attribute__((used)) void qbuild_fault_report(const uint32_t* frame) {
    uint32_t cfsr = QBUILD_ARMV6M ? 0 : SCB_CFSR;
    if (QBUILD_HAS_MSPLIM && (cfsr & CFSR_STKOF)) {
        /* The frame may not have been stacked: do not trust it. */
        write_str("qbuild: fault: stack overflow, raise stack_size in the board file");
    } else {
        write_str("qbuild: fault pc=");
        write_hex(frame[6]);
        write_str(" lr=");
        write_hex(frame[5]);
    }
    if (!QBUILD_ARMV6M) {
        write_str(" cfsr=");
        write_hex(cfsr);
        write_str(" hfsr=");
        write_hex(SCB_HFSR);
    }
    write_str("\n");
    qbuild_exit(134);
}

/* Pick the stack the faulting code used, lift the stack limit so the report itself can run (after a stack
 * overflow MSP sits at MSPLIM; we exit right after, so borrowing the memory below is harmless), and report. */
__attribute__((naked)) void HardFault_Handler(void) {
    /* Thumb-1 only (Armv6-M): no IT blocks, no TST with an immediate; BL reaches the report wherever the linker puts
     * it (a Thumb-1 B does not), and the report never returns, so the clobbered LR does not matter. */
    __asm volatile(
        "movs r0, #4\n\t"
        "mov r1, lr\n\t"
        "tst r0, r1\n\t"
        "bne 1f\n\t"
        "mrs r0, msp\n\t"
        "b 2f\n"
        "1:\n\t"
        "mrs r0, psp\n"
        "2:\n\t"
#if QBUILD_HAS_MSPLIM
        "movs r1, #0\n\t"
        "msr msplim, r1\n\t"
#endif
        "bl qbuild_fault_report\n\t");
}

void Default_Handler(void) {
    write_str("qbuild: unexpected exception\n");
    qbuild_exit(135);
}
