/** Help text on the environment variables of the commands that run machines (see src/block-cache.ts). */
export const BLOCK_CACHE_HELP = `
Environment:
  MEMVISOR_BLOCK_CACHE=off    do not read or write the block cache on disk
  MEMVISOR_BLOCK_CACHE=<dir>  keep it in <dir> (default: $XDG_CACHE_HOME/memvisor,
                              else ~/.cache/memvisor): compiled blocks earlier
                              processes wrote, reused where the guest code is the same`;
