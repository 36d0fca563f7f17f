using Xunit;

// Three test classes at a time instead of xunit's default of one per core (two on CI's machine): xunit's default
// (conservative) algorithm keeps a class's slot while its tests wait — for a master process to start, an actor's
// message, a timeout — and most of this suite waits: in CI's run of 4393e05 (2026-12-07) two classes ran at all times
// for 203 of its 217 s, while Master's and Node's tests together used about 1.1 of the two cores.
[assembly: CollectionBehavior(MaxParallelThreads = 3)]
