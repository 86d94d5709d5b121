/* Links the test-case blob (qbuild.runtime.pack_cases) into the QEMU harness; the assembler finds it via -Wa,-I. */
    .section .rodata.qbuild_blob, "a"
    .balign 16
    .global qbuild_blob
qbuild_blob:
    .incbin "qbuild_cases.bin"
