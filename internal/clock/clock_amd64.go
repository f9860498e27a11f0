package clock

// ticks reads the processor's time-stamp counter (RDTSC).
func ticks() uint64

// cpuid runs the CPUID instruction.
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// invariantTSC reports whether the time-stamp counter ticks at a constant
// rate in every power state (CPUID 8000_0007h, EDX bit 8, on Intel and AMD).
func invariantTSC() bool {
	if max, _, _, _ := cpuid(0x80000000, 0); max < 0x80000007 {
		return false
	}
	_, _, _, edx := cpuid(0x80000007, 0)
	return edx&(1<<8) != 0
}
