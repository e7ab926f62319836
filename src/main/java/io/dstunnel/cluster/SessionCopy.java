// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.dstunnel.session.copy.Handout;
import io.dstunnel.session.message.Adoption;
import io.dstunnel.session.message.Progress;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A backup node's copy of one session: every byte the client wrote, and the last answer bytes the
 * client was handed ({@link Handout}), told by the owner before they went out. An adopter resumes
 * from there, to the byte: the request that noticed the owner's death only settles whether those
 * last bytes arrived (cluster.md, item 3).
 */
final class SessionCopy {

  private final String sessionId;
  private final String user;
  private final List<Buffer> log = new ArrayList<>();
  private final WriteIds writeIds = new WriteIds();
  private long bytes;
  private long epoch;
  private String owner;
  private boolean replayable = true;
  private Handout handout;
  private long heardAt = System.nanoTime();
  private int failedAdoptions;
  /** Ranges of the log a replay leaves out, {start, end, …}, each once. */
  private final List<Long> excluded = new ArrayList<>();
  private final java.util.Set<String> excludedSeen = new java.util.HashSet<>();
  /** The methods the client's command handles run: handle → "handle=method". */
  private final java.util.Map<String, String> handles = new java.util.LinkedHashMap<>();

  SessionCopy(CopyOp open) {
    this.sessionId = open.sessionId();
    this.user = open.user();
    this.epoch = open.epoch();
    this.owner = open.owner();
    this.handout = open.handout() == null ? Handout.NONE : open.handout();
    open.chunks().forEach(c -> add(c, 0));
    writeIds.addAll(open.writeIds());
    exclude(open.excluded());
    learn(open.handles());
  }

  /** Command handles the owner learned ("handle=method"): the latest for each handle is kept. */
  void learn(List<String> learned) {
    for (String h : learned) {
      int eq = h.indexOf('=');
      if (eq > 0) {
        handles.remove(h.substring(0, eq));
        handles.put(h.substring(0, eq), h);
      }
    }
  }

  /** Ranges of the log the owner leaves out of replays ({start, end, …}): kept once each. */
  void exclude(List<Long> ranges) {
    for (int i = 0; i + 1 < ranges.size(); i += 2) {
      if (excludedSeen.add(ranges.get(i) + ":" + ranges.get(i + 1))) {
        excluded.add(ranges.get(i));
        excluded.add(ranges.get(i + 1));
      }
    }
  }

  long epoch() {
    return epoch;
  }

  /** The owner spoke of the session (a write, a hand-out, a check): it lives. */
  void heard() {
    heardAt = System.nanoTime();
  }

  /** How long the owner has said nothing of the session, in ms. */
  long silentMs(long now) {
    return (now - heardAt) / 1_000_000;
  }

  /** Whether the owner has said nothing of the session for {@code ms}: it ended, or its owner died and its client left. */
  boolean silentFor(long ms, long now) {
    return now - heardAt > ms * 1_000_000;
  }

  String owner() {
    return owner;
  }

  boolean replayable() {
    return replayable;
  }

  /**
   * Bytes the owner took, which end at {@code end} in the session's stream (0: not said, they
   * follow). A whole copy made again while a write's own copy was still on its way already holds
   * that write: it is not taken twice (a copy holding a write twice makes its adopter answer it
   * twice). False when bytes before them are missing here: this copy cannot be completed.
   */
  boolean append(long end, Buffer chunk, long writeId) {
    long lacking = end == 0 ? chunk.length() : end - bytes;  // the chunk's last bytes this copy lacks
    if (lacking > chunk.length()) {
      return false;
    }
    if (lacking > 0) {
      add(lacking == chunk.length() ? chunk : chunk.slice((int) (chunk.length() - lacking), chunk.length()), writeId);
    }
    return true;
  }

  /** The owner is about to hand the client answer bytes: the copy knows it before the client does. */
  void handedOut(Handout next) {
    handout = next;
  }

  private void add(Buffer chunk, long writeId) {
    log.add(chunk);
    bytes += chunk.length();
    writeIds.add(writeId);
  }

  void drop() {
    replayable = false;
    log.clear();
    excluded.clear();
  }

  /** Whether this node won the session's claim and its replay failed (it may try again). */
  boolean adoptionFailed() {
    return failedAdoptions > 0;
  }

  /** One more adoption failed: whether that makes {@code tries}. */
  boolean adoptionFailed(int tries) {
    return ++failedAdoptions >= tries;
  }

  /** Becomes the copy of {@code newOwner}'s session at {@code newEpoch} (it is taking over). */
  void takenOver(String newOwner, long newEpoch) {
    owner = newOwner;
    epoch = newEpoch;
  }

  /**
   * What the adopter needs: the log, and how far the client has got, which {@code asked} settles:
   * the owner handing over says so; a write, or a read other than the one the last bytes went to,
   * means the client has them; that same read asking again (its relaying node re-sends it), that
   * it has not. {@code from}: the owner it is taken from.
   */
  Adoption adoption(CopyOp asked, String from) {
    boolean handedOver = asked.count() == CopyOp.HANDED_OVER && asked.handout() != null;
    boolean read = asked.count() == CopyOp.READ_SEEN || asked.count() == CopyOp.READ_HELD;
    Progress given = handedOver ? asked.handout().after() : handout.settledBy(read, asked.owner(), asked.writeId());
    // A read the owner had held with nothing to give is no read sent again for a lost answer.
    Progress unlessNothingOwed = !handedOver && asked.count() == CopyOp.READ_SEEN && !given.equals(handout.before())
        ? handout.before() : null;
    return new Adoption(sessionId, user, List.copyOf(log), given, epoch, writeIds.toList(), List.copyOf(excluded),
        from, List.copyOf(handles.values()), unlessNothingOwed);
  }
}
