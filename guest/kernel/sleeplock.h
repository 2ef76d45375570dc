// Sleep locks for one CPU: a busy flag, waited for by sleeping (interrupts off).
// The flag is 2 while someone waits: a release wakes the waiters only then (wakeup wakes
// them all; those that find the lock taken again mark it 2 again before they sleep).
#define ACQUIRE_BUSY(flag, chan) do { pushcli(); while (flag) { (flag) = 2; sleep(chan); } (flag) = 1; popcli(); } while (0)
#define RELEASE_BUSY(flag, chan) do { pushcli(); int waited_ = (flag) == 2; (flag) = 0; if (waited_) wakeup(chan); popcli(); } while (0)
