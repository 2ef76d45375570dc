// Trap numbers: processor exceptions 0-31, then device interrupts from T_IRQ0.
#define T_DIVIDE   0
#define T_DEBUG    1
#define T_NMI      2
#define T_BRKPT    3
#define T_ILLOP    6
#define T_GPFLT   13
#define T_PGFLT   14
#define T_MCHK    18
#define T_IRQ0    32
#define IRQ_TIMER  0
#define IRQ_KBD    1
#define IRQ_COM1   4
#define IRQ_IDE   14
#define IRQ_ERROR 19
#define IRQ_SPURIOUS 31
