/** `stdb-commitlog/testing`: what a user needs to test code built on the log: fault injection and an in-memory repo. */
export { type ArmOptions, type FaultKind, type FaultyRepoOptions, type InjectedFault, FAULT_KINDS, FaultyRepo, seededRandom } from '../repo/faulty.js';
export { MemoryRepo, MemoryBuffer, MemoryFile, type MemoryRepoOptions } from '../repo/memory.js';
