package io.dstunnel.cluster;

import io.vertx.core.buffer.Buffer;
import java.util.List;

/**
 * What an owner tells the nodes that keep a copy of its sessions, what any node asks of them,
 * and their answers. All carry the ownership epoch: a stale owner's message is refused, never
 * merged.
 *
 * @param owner the node that owns (or, in an answer, now owns) the session
 * @param writeId APPEND: the write's id (0: none); ADOPT: the id of the write that noticed, if any
 * @param count ADOPT: the answers the client already has ({@link #WRITE_SEEN} or {@link #READ_SEEN}
 *     when the request that noticed the owner's death decides it); APPEND: where the bytes end in
 *     the session's stream (0: not said), so that a copy never takes them twice
 * @param chunks OPEN: the whole log; APPEND: the bytes taken
 */
record CopyOp(Kind kind, String sessionId, long epoch, String owner, String user, long writeId, long count,
              List<Buffer> chunks, List<Long> writeIds) {

  /** Adoption noticed by a write: the client has every answer to what it wrote before. */
  static final long WRITE_SEEN = -1;
  /** Adoption noticed by a read: the client has every answer but those to its last write. */
  static final long READ_SEEN = -2;

  enum Kind {
    /** A whole copy (a new session, or a new copy holder): replaces an older one. */
    OPEN,
    /** Bytes the session took. */
    APPEND,
    /** The log went over its cap: the copy can no longer be adopted. */
    DROP,
    /** The session ended. */
    CLOSE,
    /** Take the session over: its owner is dead, silent, or handing it over. */
    ADOPT,
    /** Is {@code owner} still the owner at {@code epoch}? */
    CHECK,
    /** Answer: done, yes. */
    ACK,
    /** Answer: a newer owner holds the session ({@code owner}, {@code epoch}). */
    MOVED,
    /** Answer: no copy of that session here. */
    UNKNOWN,
    /** {@code owner} is about to adopt the session at {@code epoch}: yes (ACK), or who won (MOVED). */
    CLAIM
  }

  static CopyOp of(Kind kind, String sid, long epoch, String owner) {
    return new CopyOp(kind, sid, epoch, owner, null, 0, 0, List.of(), List.of());
  }

  /** {@code end}: the length of the session's stream with {@code bytes} (see {@link SessionCopy#append}). */
  static CopyOp append(String sid, long epoch, String owner, Buffer bytes, long writeId, long end) {
    return new CopyOp(Kind.APPEND, sid, epoch, owner, null, writeId, end, List.of(bytes), List.of());
  }

  /** {@code writeId}: the write that noticed the owner's death, if it carries one (it may be in the copy). */
  static CopyOp adopt(String sid, long epochSeen, long answersGiven, long writeId) {
    return new CopyOp(Kind.ADOPT, sid, epochSeen, null, null, writeId, answersGiven, List.of(), List.of());
  }
}
