// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.dstunnel.session.copy.Handout;
import io.vertx.core.buffer.Buffer;
import java.util.List;

/**
 * What an owner tells the nodes that keep a copy of its sessions, what any node asks of them,
 * and their answers. All carry the ownership epoch: a stale owner's message is refused, never
 * merged.
 *
 * @param owner the node that owns (or, in an answer, now owns) the session; ADOPT: the node whose
 *     read noticed the owner's death (null: a write, or the owner's own hand-over)
 * @param writeId APPEND: the write's id (0: none); ADOPT: the id of the read or write that noticed, if any
 * @param count ADOPT: what decides how far the client has got ({@link #WRITE_SEEN}, {@link #READ_SEEN}
 *     or {@link #HANDED_OVER}); APPEND: where the bytes end in the session's stream (0: not said),
 *     so that a copy never takes them twice
 * @param chunks OPEN: the whole log; APPEND: the bytes taken
 * @param handout OPEN, GIVE: the last bytes handed out to the client; APPEND: the same, again (a
 *     step's reminder of the last hand-out's written mark, which goes without an answer), or null;
 *     ADOPT at a hand-over: how far the client has got (its {@code after}); otherwise null
 * @param excluded OPEN: every range of the log a replay leaves out ({start, end, …}); APPEND, GIVE:
 *     those left out since the owner's last message (a copy keeps them once)
 * @param handles OPEN: the methods the client's command handles run ("handle=method"); APPEND,
 *     GIVE: those learned since the owner's last message; MOVED answering WHERE: the session's copy holders
 */
record CopyOp(Kind kind, String sessionId, long epoch, String owner, String user, long writeId, long count,
              List<Buffer> chunks, List<Long> writeIds, Handout handout, List<Long> excluded, List<String> handles) {

  /** Adoption noticed by a write (or a close): the client has everything handed out. */
  static final long WRITE_SEEN = -1;
  /** Adoption noticed by a read: the client has everything handed out, unless it is the same read asking again. */
  static final long READ_SEEN = -2;
  /**
   * Adoption asked by a read that had already waited at the owner with nothing to take (a read
   * from a client that awaits nothing, or a read the owner held): the client has what it was given.
   */
  static final long READ_HELD = -4;
  /** Adoption asked by the owner itself (a hand-over): it says how far the client has got. */
  static final long HANDED_OVER = -3;

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
    CLAIM,
    /** A read is about to hand the client answer bytes ({@code handout}). */
    GIVE,
    /**
     * Where does the session live? Any node answers from what it heard ({@link Directory}), at its
     * own address for it ({@code Addresses.whereIs}): MOVED with the owner, its epoch and its copy
     * holders ({@link #located}), or UNKNOWN.
     */
    WHERE
  }

  CopyOp(Kind kind, String sessionId, long epoch, String owner, String user, long writeId, long count,
         List<Buffer> chunks, List<Long> writeIds) {
    this(kind, sessionId, epoch, owner, user, writeId, count, chunks, writeIds, null, List.of(), List.of());
  }

  static CopyOp of(Kind kind, String sid, long epoch, String owner) {
    return new CopyOp(kind, sid, epoch, owner, null, 0, 0, List.of(), List.of());
  }

  /** A whole copy: the log, the last writes' ids, and the last bytes handed out. */
  static CopyOp open(String sid, long epoch, String owner, String user, List<Buffer> log, List<Long> writeIds,
                     Handout handout, List<Long> excluded, List<String> handles) {
    return new CopyOp(Kind.OPEN, sid, epoch, owner, user, 0, 0, log, writeIds, handout, excluded, handles);
  }

  /**
   * {@code end}: the length of the session's stream with {@code bytes} (see {@link SessionCopy#append});
   * {@code handout}: the last hand-out as the owner knows it now.
   */
  static CopyOp append(String sid, long epoch, String owner, Buffer bytes, long writeId, long end,
                       Handout handout, List<Long> excluded, List<String> handles) {
    return new CopyOp(Kind.APPEND, sid, epoch, owner, null, writeId, end, List.of(bytes), List.of(), handout,
        excluded, handles);
  }

  static CopyOp give(String sid, long epoch, String owner, Handout handout, List<Long> excluded,
                     List<String> handles) {
    return new CopyOp(Kind.GIVE, sid, epoch, owner, null, 0, 0, List.of(), List.of(), handout, excluded, handles);
  }

  /**
   * Take-over noticed by a request ({@code read} or not) of another node's: {@code requestId} the
   * read's or the write's id, {@code origin} the node whose read it is.
   */
  static CopyOp adopt(String sid, long epochSeen, boolean read, String origin, long requestId) {
    return adopt(sid, epochSeen, read, false, origin, requestId);
  }

  /** As above; {@code held}: the read had waited at the owner, which had nothing to give it ({@link #READ_HELD}). */
  static CopyOp adopt(String sid, long epochSeen, boolean read, boolean held, String origin, long requestId) {
    return new CopyOp(Kind.ADOPT, sid, epochSeen, read ? origin : null, null, requestId,
        !read ? WRITE_SEEN : held ? READ_HELD : READ_SEEN, List.of(), List.of());
  }

  /** Asks a node where session {@code sid} lives (see {@link Kind#WHERE}). */
  static CopyOp where(String sid) {
    return of(Kind.WHERE, sid, 0, null);
  }

  /** The answer to WHERE from a node that knows record {@code r}: its copy holders in {@code handles}. */
  static CopyOp located(SessionRecord r) {
    return new CopyOp(Kind.MOVED, r.sessionId(), r.epoch(), r.owner(), null, 0, 0, List.of(), List.of(), null,
        List.of(), r.backups());
  }

  /** The record a {@link #located} answer carries. */
  SessionRecord record() {
    return new SessionRecord(sessionId, owner, epoch, List.copyOf(handles));
  }

  /** The owner hands the session over: the client has {@code handout.after()}. */
  static CopyOp handOver(String sid, long epoch, Handout handout) {
    return new CopyOp(Kind.ADOPT, sid, epoch, null, null, 0, HANDED_OVER, List.of(), List.of(), handout, List.of(), List.of());
  }
}
