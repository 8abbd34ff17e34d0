package io.knowngood.replication;

import java.util.Map;
import java.util.Optional;

/**
 * Counters since start. {@code rejected} counts entries that arrived from the mesh and were dropped
 * before reaching the store, by reason code (the verifier's {@code Rejection.code()}, plus
 * {@code renamed}: a valid bundle under another name's key, {@code stale}: valid but older than
 * what the node holds, and anti-entropy's bounds: {@code have_over_limit} (a peer's announcement
 * dropped because too many announced versions were already waiting to be pulled),
 * {@code announced_over_limit} (a peer announced more names than are remembered per member),
 * {@code digest_request_over_limit}, {@code unsolicited_bundle} (an archive this node did not pull),
 * {@code ae_queue_full} (a message dropped because the anti-entropy queue was full) and
 * {@code malformed_message}), and peers' records ({@link MeshRecords}) dropped before readers saw them,
 * each (key, value) counted once: {@code record_bad_key} (not {@code memberId|key} with a valid key),
 * {@code record_bad_value} (not bytes), {@code record_too_large} (over {@link MeshRecords#MAX_VALUE_BYTES})
 * and {@code record_over_limit} (the member already has {@link MeshRecords#MAX_RECORDS_PER_MEMBER}).
 * {@code recordWrites}: this member's own records written to the mesh; {@code recordWritesDeferred}:
 * those that waited for the write rate limit first; {@code recordRepushes}: times they were all written
 * again because a peer's copy of them had differed for a round (a write lost on the way, {@link
 * RecordsCheck}). {@code coordinationHandOvers}: times this member,
 * coordinating, found a member stuck joining and joined again so that another would coordinate
 * (docs/replication.md, "Start and rejoin"). {@code mergeChecksKept} / {@code mergeChecksResumed}: times
 * JGroups' MERGE3 would have stopped looking for split views until the next view change, after a view
 * announced but never installed, and this member kept its checks running or resumed them after one
 * check interval ({@link ResumingMerge3}). {@code sameIdViewsTold} / {@code sameIdViewsLeft}: times this
 * member, coordinating, found a member holding a view of this member's id but other members and sent it
 * the view, and times this member, told so by the coordinator of its view id, left that view to be merged
 * back ({@link ResumingMerge3}). {@code tlsRefused}: mesh TLS handshakes that failed, by kind
 * ({@link TlsRefusals.Kind}). {@code revocationList}: the mesh CA's revocation list this member looks at
 * and what of it is in force (empty without mesh TLS; {@link Revocations}).
 */
public record MeshStats(Map<String, Long> storedBySource, Map<String, Long> rejected, long ignoredByStore,
                        long antiEntropyRounds, long pullsSent, long localCopiesRepaired,
                        long recordWrites, long recordWritesDeferred, long recordRepushes, long coordinationHandOvers,
                        long mergeChecksKept, long mergeChecksResumed, long sameIdViewsTold, long sameIdViewsLeft,
                        Map<String, Long> tlsRefused,
                        Optional<Revocations.Status> revocationList) {
  public MeshStats {
    storedBySource = Map.copyOf(storedBySource);
    rejected = Map.copyOf(rejected);
    tlsRefused = Map.copyOf(tlsRefused);
  }

  public long rejectedTotal() {
    return rejected.values().stream().mapToLong(Long::longValue).sum();
  }
}
