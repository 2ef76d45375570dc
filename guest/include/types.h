// Basic integer types shared by the MemV6 kernel and user programs.
#ifndef MEMV6_TYPES_H
#define MEMV6_TYPES_H
typedef unsigned int   uint;
typedef unsigned short ushort;
typedef unsigned char  uchar;
typedef unsigned int   uint32;
typedef unsigned long long uint64;
typedef uint pde_t;
typedef uint pte_t;
#define NULL ((void *)0)
#endif
