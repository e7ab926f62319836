// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.copy;

import io.dstunnel.session.message.Adoption;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.util.List;

/**
 * What a session verticle tells the rest of a cluster about the sessions it owns: a copy of what
 * each session took goes to its backup nodes before the client hears that it was taken, and the
 * owner checks, when it may have been away, that it still owns a session before it serves it.
 * A single node has nothing to tell: {@link #NONE}.
 */
public interface Replication {

  /** A session opened with {@code first}; completes once the directory and the copies have it. */
  Future<Void> opened(ReplicatedSession session, Buffer first);

  /** The session took {@code bytes} (write {@code writeId}); completes once the copies have them. */
  Future<Void> wrote(ReplicatedSession session, Buffer bytes, long writeId);

  /**
   * A read is about to hand out answer bytes ({@code handout}); completes once the copies know it,
   * before the bytes go out: a copy then knows what the client has, to the byte.
   */
  Future<Void> handedOut(ReplicatedSession session, Handout handout);

  /**
   * Read {@code readId}, answered by this node itself, has its bytes on their way to the client
   * (handed to the HTTP side): the copies learn it, not waited for, so that a read sent again after
   * the owner's death is not given those bytes twice, nor one sent again before they went out denied
   * them.
   */
  void delivered(ReplicatedSession session, long readId);

  /**
   * Whether member {@code node}, which relayed a read's answer and has not yet said it passed it
   * on, ran after {@code since} (System.nanoTime): its port accepted a connection opened then
   * ({@link Relay#RUNS}), or refused it, the process gone ({@link Relay#GONE}), or did not answer.
   */
  Future<Relay> relay(String node, long since);

  /**
   * Whether {@code node}, which left the cluster, is a member again and sent a read it relays since
   * it came back: in cluster manager view {@code sentInView} (-1: not known, taken for since), at
   * or after the view it came back in. Such a read's answer is passed on as any member's; one it
   * sent before it was cut off has nobody waiting for it there any more.
   */
  boolean back(String node, int sentInView);

  /** What a node that relayed a read's answer is, as its port says. */
  enum Relay {
    /** Its process ran at the time asked about. */
    RUNS,
    /** Its process is gone: an answer it had not passed on died with it. */
    GONE,
    /** Its port did not answer (a host gone quiet, a cut network): nothing is known. */
    UNKNOWN
  }

  /** Whether write {@code writeId} was already applied (a forwarded write re-sent after an adoption). */
  boolean applied(ReplicatedSession session, long writeId);

  /** Whether this node still owns the session (checked with the cluster when it may have been away). */
  Future<Boolean> stillOwner(ReplicatedSession session);

  /** The session took over from a copy ({@code adoption}): it now has new copies to make. */
  Future<Void> adopted(ReplicatedSession session, Adoption adoption);

  /** Hands an idle session to a node that holds its copy; completes once that node owns it. */
  Future<Void> handOver(ReplicatedSession session);

  /** The session ended for good (closed, expired, failed): its copies and record go. */
  void ended(ReplicatedSession session);

  /** This node no longer owns the session (fenced or handed over): forget it without ending it. */
  void forget(ReplicatedSession session);

  /**
   * Looks after the copies of the sessions {@code live} here (called every second): a session
   * short of copies (a holder died or left, members joined) gets new ones, and the copies and
   * records of idle sessions are told that they live on.
   */
  void maintain(List<ReplicatedSession> live);

  /** Single node: nothing to copy, nobody else to ask. */
  Replication NONE = new Replication() {
    @Override
    public Future<Void> opened(ReplicatedSession session, Buffer first) {
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> wrote(ReplicatedSession session, Buffer bytes, long writeId) {
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> handedOut(ReplicatedSession session, Handout handout) {
      return Future.succeededFuture();
    }

    @Override
    public void delivered(ReplicatedSession session, long readId) {
    }

    @Override
    public boolean applied(ReplicatedSession session, long writeId) {
      return false;
    }

    @Override
    public Future<Boolean> stillOwner(ReplicatedSession session) {
      return Future.succeededFuture(true);
    }

    @Override
    public Future<Void> adopted(ReplicatedSession session, Adoption adoption) {
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> handOver(ReplicatedSession session) {
      return Future.failedFuture("a single node has nobody to hand sessions to");
    }

    @Override
    public void ended(ReplicatedSession session) {
    }

    @Override
    public void forget(ReplicatedSession session) {
    }

    @Override
    public void maintain(List<ReplicatedSession> live) {
    }

    @Override
    public Future<Relay> relay(String node, long since) {
      return Future.succeededFuture(Relay.UNKNOWN);
    }

    @Override
    public boolean back(String node, int sentInView) {
      return false;
    }
  };
}
