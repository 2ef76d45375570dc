/** The hypervisor layer: one monitor composed in one place (monitor.ts), and its parts. */
export { createMonitor, Monitor, MIRROR_MODES, DEFAULT_MEMORY_MIB, machineMemoryMiB, DEFAULT_SPARE_MIB, type MirrorMode, type MonitorOptions, type MemoryErrorStats } from './monitor.js';
export { MEMV6, MEMV6_IMAGES, MEMV6_LAYOUT, PROFILES, type GuestProcess, type GuestProfile, type GuestReports, type Twin } from './profile.js';
export { FRAME_ROLES, processLabel, type AddressSpaceView, type FrameDetails, type FrameMap, type FrameOwner, type FrameRole } from './frame-map.js';
export type { MemoryEvent, MemoryEventKind } from './memory-events.js';
export { inspectMirrors, walkUserPages, framesEqual, type AddressSpaceMirrors, type MirrorStats } from './mirror.js';
export type { RecoveryMode } from './recovery.js';
export type { AddressSpaces, UserPages } from './address-spaces.js';
export { viewTwin, type TwinView, type FrameView } from './twin-view.js';
