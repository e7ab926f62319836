// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session;

import io.dstunnel.session.copy.Handout;
import io.dstunnel.session.copy.Replication;
import io.dstunnel.session.message.Progress;
import io.dstunnel.session.message.TunnelCommand;
import io.dstunnel.session.message.TunnelReply;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.buffer.Buffer;
import java.util.concurrent.TimeUnit;

/**
 * The last answer of a cluster session's reads when another node relayed it to its client: kept
 * until that node says it passed it on, and taken back, to be given again, when that node died
 * first or its read asks again (a client's retried read would otherwise wait forever). The
 * client's next request, or that node's notice arriving late, settles whether it had an answer
 * taken back. One per session entry; runs on the session's event loop. A single node never comes
 * here.
 */
final class RelayedAnswers {

  /** A relayed answer kept past this size is not kept (a read returns at most what the client asked). */
  private static final int RELAYED_KEPT_BYTES = 64 << 10;

  /**
   * How long a read waits for the notice that the answer before it, relayed by a node now gone,
   * went out (it wrote, and died before the notice left).
   */
  private static final long DELIVERY_GRACE_MS = 200;

  /**
   * The answer of read {@code readId} relayed by node {@code origin}, and where it lay in the answer
   * stream; {@code sent} completes when that node says it is being written to its client.
   */
  record Relayed(String origin, long readId, Buffer bytes, long offset, Promise<Void> sent) {
  }

  private final SessionEntry e;
  private final Replication replication;
  /** The session verticle's: a relayed answer's notice and its wait end there. */
  private final ContextInternal context;
  /** The last read's answer if another node relayed it (its node may die before passing it on). */
  private Relayed lastRelayed;
  /** The read whose answer bytes are being handed out (its copies told): done once it is recorded. */
  private Future<Void> handingOut = Future.succeededFuture();
  /**
   * The answer taken back when its node died, not yet read again (null: none): the client's next
   * request, or that node's notice arriving late, says whether the client had it.
   */
  private Relayed retaken;

  RelayedAnswers(SessionEntry e, Replication replication, Context context) {
    this.e = e;
    this.replication = replication;
    this.context = (ContextInternal) context;
  }

  /**
   * A read's answer is being handed out (its copies told): {@code recorded} completes once
   * {@link #handedOut} knows it.
   */
  void handingOut(Future<Void> recorded) {
    handingOut = recorded;
  }

  /** Bytes handed out were taken back or dropped outside a read: the copies learn how far the client now is. */
  void progressChanged() {
    Progress now = e.session().progress();
    replication.handedOut(e.copy(), new Handout(now, now, null, 0, true));
  }

  /**
   * What the client's next request says of an answer taken back when the node that relayed it
   * died ({@link ClusterGate#memberLeft}): a write, that the client had it (a DBX client writes
   * only after its last answer was whole), so it is dropped; a read, that it did not, so it is read
   * again.
   */
  void settle(TunnelCommand cmd) {
    if (cmd.kind() == TunnelCommand.Kind.WRITE || cmd.kind() == TunnelCommand.Kind.CLOSE) {
      dropRetaken();
      lastRelayed = null;
    } else if (cmd.kind() == TunnelCommand.Kind.READ) {
      retaken = null;
    }
  }

  /** The client had the answer taken back: its bytes are dropped, not read again. */
  private void dropRetaken() {
    if (retaken != null) {
      e.session().answers().read(retaken.bytes().length(), 0, 1, TunnelReply.noDataYet());
      progressChanged();
    }
    retaken = null;
  }

  /**
   * Node {@code origin} says the answer it relayed for read {@code readId} is going to its client:
   * the client has it, and the copies learn it.
   */
  void delivered(String origin, long readId) {
    Relayed r = lastRelayed;
    if (r != null && r.origin().equals(origin) && r.readId() == readId && !e.forgotten()) {
      // The copies first: the notice resumes a read waiting on it at once, which may hand out more.
      replication.delivered(e.copy(), readId);
      r.sent().tryComplete();
    } else if (sameAnswer(retaken, origin, readId) && !e.forgotten()) {
      // The node left after it wrote the answer and before its notice went out (it was paused, and
      // woke up): the bytes taken back at its leave, not read again yet, are the client's already.
      dropRetaken();
    }
  }

  private static boolean sameAnswer(Relayed r, String origin, long readId) {
    return r != null && r.origin().equals(origin) && r.readId() == readId;
  }

  /**
   * A read from another place than the node that relayed the last answer, which has not yet said
   * it passed that answer on. A front sends a read again through another node at once when the one
   * it went through dies; a client asks for more only once it has its answer. So the relaying
   * node's port is probed as this read arrives: if the node answers (with the cluster's key, the
   * whole TLS handshake), it ran after it wrote, the client had the answer (the notice is late),
   * and this read is for more; if its port refuses, the process is gone, the answer died with it
   * unless its notice comes after all (it wrote, then died), and this read is the client's retry:
   * the answer is taken back, to be given again. Anything else (a paused node, a forwarder in
   * front of a dead one, no answer) proves nothing: the answer is taken back only if that node
   * leaves the cluster with a read waiting ({@link #retake}).
   */
  Future<Void> relayedBefore(String origin) {
    long arrived = System.nanoTime();
    // A read still being handed out (its copies told) is the last one once it is done: waited for.
    return handingOut.transform(done -> relayedBeforeNow(origin, arrived));
  }

  private Future<Void> relayedBeforeNow(String origin, long arrived) {
    Relayed r = lastRelayed;
    if (nothingInDoubt(r, origin)) {
      return Future.succeededFuture();
    }
    Future<Replication.Relay> check = replication.relay(r.origin(), arrived).otherwise(Replication.Relay.UNKNOWN);
    // The notice, usually only a little late, settles it as well as the check does, and sooner.
    return Future.any(r.sent().future(), check).compose(first -> {
      if (nothingInDoubt(r, origin) || lastRelayed != r) {
        return Future.succeededFuture();
      }
      Replication.Relay relay = check.result();
      if (relay == Replication.Relay.RUNS) {
        delivered(r.origin(), r.readId());
        return Future.succeededFuture();
      }
      return r.sent().future().timeout(DELIVERY_GRACE_MS, TimeUnit.MILLISECONDS)
          .recover(late -> {
            if (relay == Replication.Relay.GONE && lastRelayed == r) {
              takeBack(r.origin(), 0);
            }
            return Future.succeededFuture();
          });
    }).otherwiseEmpty();
  }

  /** Whether nothing is in doubt for a read from {@code origin}: no relayed answer, its own, or one said passed on. */
  private static boolean nothingInDoubt(Relayed r, String origin) {
    return r == null || r.origin().equals(origin) || r.sent().future().isComplete();
  }

  /**
   * The same read (its node, its id) asks again for what it was last given: that answer never
   * reached its client (the node relaying it stopped waiting for it, this node being too slow, and
   * asks again for the same client request). It is taken back, to be given again.
   */
  void askedAgain(String origin, long readId) {
    if (origin != null && readId != 0) {
      takeBack(origin, readId);
    }
  }

  /**
   * A read took {@code reply}'s bytes: kept a while if another node relays them, which may die
   * first. Whether they can be taken back should that node not pass them on (not an answer too
   * large to keep, nor a callback channel's: see {@link #takeBack}).
   */
  boolean handedOut(String origin, long readId, TunnelReply reply) {
    lastRelayed = origin != null && reply.data().length() <= RELAYED_KEPT_BYTES
        ? new Relayed(origin, readId, reply.data(), reply.offset(), context.promise()) : null;
    return lastRelayed != null && !e.session().calls().channelOpen();
  }

  /**
   * Takes back the session's last answer if node {@code gone} relayed it, it is still the last
   * handed out, and the node never said it passed it on.
   */
  void retake(String gone) {
    if (lastRelayed != null && lastRelayed.sent().future().isComplete()) {
      return;
    }
    boolean waiting = e.session().hasWaitingReads();
    Relayed r = lastRelayed;
    int bytes = takeBack(gone, 0);
    if (bytes > 0 && !waiting) {
      retaken = r;
    }
  }

  /**
   * Takes back the last answer a relayed read took, if node {@code origin} relayed it (and
   * {@code readId} asked for it, unless 0) and it is still the last handed out: its length, or 0.
   * Callback channels are left alone: their reads go on without writes to settle them.
   */
  private int takeBack(String origin, long readId) {
    Relayed r = lastRelayed;
    if (r == null || !r.origin().equals(origin) || readId != 0 && r.readId() != readId || e.forgotten()
        || e.session().calls().channelOpen()) {
      return 0;
    }
    lastRelayed = null;
    if (!e.session().unread(r.bytes(), r.offset())) {
      return 0;
    }
    progressChanged();
    return r.bytes().length();
  }
}
