// Sleep locks for one CPU: a busy flag, waited for by sleeping (interrupts off).
#define ACQUIRE_BUSY(flag, chan) do { pushcli(); while (flag) sleep(chan); (flag) = 1; popcli(); } while (0)
#define RELEASE_BUSY(flag, chan) do { pushcli(); (flag) = 0; wakeup(chan); popcli(); } while (0)
