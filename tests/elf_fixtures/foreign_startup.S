/* CMSIS-style startup for the foreign ELF fixture: heap and stack reserved as .heap / .stack input sections. */
    .syntax unified
    .thumb

    .section .stack, "aw", %nobits
    .align 3
    .space 0xC00

    .section .heap, "aw", %nobits
    .align 3
    .space 0x400

    .section .isr_vector, "a", %progbits
    .align 2
    .globl __isr_vector
__isr_vector:
    .long __StackTop
    .long Reset_Handler

    .text
    .thumb_func
    .globl Reset_Handler
    .type Reset_Handler, %function
Reset_Handler:
    bl main
1:  b 1b
    .size Reset_Handler, . - Reset_Handler
