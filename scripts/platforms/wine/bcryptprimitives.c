/*
 * Test-only stand-in for bcryptprimitives.dll in the wine prefix of the Windows proofs.
 * Rust's std (1.78+) imports ProcessPrng from it for random numbers (HashMap seeds); Windows
 * 10 and later have it, wine 8.0 does not, and a DLL that imports a missing one does not load.
 * This one answers ProcessPrng with RtlGenRandom (advapi32's SystemFunction036), which wine has.
 * It is never shipped: only scripts/platforms/wine.js builds it, into its own prefix.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG piece = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, piece)) return FALSE;
        data += piece;
        length -= piece;
    }
    return TRUE;
}
