// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session;

import io.dstunnel.session.copy.CutOff;
import io.dstunnel.session.copy.Handout;
import io.dstunnel.session.copy.Replication;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * A session verticle's side of the cluster: a session's requests are served only while this node
 * owns it (checked in arrival order), what a write took is copied to the backup nodes before the
 * client hears that it was taken, a forwarded write sent again is not applied twice, and idle
 * sessions are handed over when the node leaves. A single node never comes here.
 */
final class ClusterGate {

  /** A relayed answer kept past this size is not kept (a read returns at most what the client asked). */
  private static final int RELAYED_KEPT_BYTES = 64 << 10;
  private static final int GONE_KEPT = 64;

  /** How long a read waits for the notice that the answer before it, relayed by another node, went out. */
  private static final long DELIVERY_GRACE_MS = 200;

  /**
   * The answer of read {@code readId} relayed by node {@code origin}, and where it lay in the answer
   * stream; {@code sent} completes when that node says it is being written to its client.
   */
  record Relayed(String origin, long readId, Buffer bytes, long offset, Promise<Void> sent) {
    Relayed(String origin, long readId, Buffer bytes, long offset) {
      this(origin, readId, bytes, offset, Promise.promise());
    }
  }

  private final Replication replication;
  /** Members that left, most recent last (bounded): a read relayed by one of them has nobody to go to. */
  private final Set<String> gone = new LinkedHashSet<>();

  ClusterGate(Replication replication) {
    this.replication = replication;
  }

  void dispatch(SessionEntry e, Message<TunnelCommand> msg, BiConsumer<Session, Message<TunnelCommand>> apply) {
    TunnelCommand cmd = msg.body();
    Session session = e.session();
    String origin = msg.headers().get(Addresses.ORIGIN);
    if (cmd.kind() == TunnelCommand.Kind.DELIVERED) {
      delivered(e, origin, cmd.readId());
      return;
    }
    Future<Boolean> owned = e.owned.transform(ar -> ar.succeeded() && !ar.result() ? Future.succeededFuture(false)
        : replication.stillOwner(session.replicated()));
    if (cmd.kind() == TunnelCommand.Kind.READ) {
      owned = owned.compose(own -> own ? relayedBefore(e, origin).map(own) : Future.succeededFuture(own));
    }
    e.owned = owned;
    owned.onComplete(ar -> {
      if (!e.forgotten && cutOff(ar.cause(), msg)) {
        return;
      }
      if (e.forgotten || ar.failed() || !ar.result()) {
        forget(e);
        msg.reply(TunnelReply.failed(SessionFailure.NOT_HERE, null));
        return;
      }
      settle(e, cmd);
      if (cmd.kind() == TunnelCommand.Kind.READ) {
        askedAgain(e, origin, cmd.readId());
        SessionVerticle.read(session, cmd).onSuccess(reply -> {
          if (reply.kind() != TunnelReply.Kind.DATA) {
            msg.reply(reply);
            return;
          }
          // The copies learn what the client is given before it goes out (cluster.md §3).
          Handout handout = new Handout(session.progressAt(reply.offset()),
              session.progressAt(reply.offset() + reply.data().length()), origin, cmd.readId(), false);
          Promise<Void> recorded = Promise.promise();
          e.handingOut = recorded.future();
          replication.handedOut(session.replicated(), handout).onComplete(copied -> {
            // Done once lastRelayed says what happened: a read waiting on it looks there next.
            try {
              answer(e, msg, origin, reply, copied.cause());
            } finally {
              recorded.complete();
            }
          });
        });
      } else if (cmd.kind() == TunnelCommand.Kind.WRITE && replication.applied(session.replicated(), cmd.readId())) {
        msg.reply(TunnelReply.accepted(session.id(), cmd.body().length()));
      } else if (cmd.kind() == TunnelCommand.Kind.WRITE) {
        session.write(cmd.body()).onSuccess(reply -> {
          if (reply.kind() != TunnelReply.Kind.ACCEPTED) {
            msg.reply(reply);
            return;
          }
          replication.wrote(session.replicated(), cmd.body(), cmd.readId()).onComplete(copied -> {
            if (copied.cause() instanceof CutOff) {
              // Already given to the backend: its outcome is unknown to the client, as a write in
              // flight on a dead node's connection (cluster.md §3), not "not run".
              msg.reply(TunnelReply.failed(SessionFailure.CUT_OFF, "The proxy node serving this session lost "
                  + "contact with the cluster node that holds its copy (a network partition) while this write was "
                  + "copied: it may have run"));
              return;
            }
            if (copied.failed()) {
              forget(e);
              msg.reply(TunnelReply.failed(SessionFailure.NOT_HERE, null));
            } else {
              msg.reply(reply);
            }
          });
        });
      } else {
        apply.accept(session, msg);
        if (cmd.kind() == TunnelCommand.Kind.UNREAD) {
          progressChanged(session);
        }
      }
    });
  }

  /** A read's bytes, its copies told ({@code failure} null) or not: to the client, or taken back. */
  private void answer(SessionEntry e, Message<TunnelCommand> msg, String origin, TunnelReply reply,
                      Throwable failure) {
    Session session = e.session();
    long readId = msg.body().readId();
    if (failure != null) {
      session.unread(reply.data(), reply.offset());
      if (cutOff(failure, msg)) {
        return;
      }
      forget(e);
      msg.reply(TunnelReply.failed(SessionFailure.NOT_HERE, null));
      return;
    }
    handedOut(e, origin, readId, reply);
    msg.reply(reply);
    if (origin == null) {
      // Answered here: the copies learn at once that the bytes are on their way to this node's
      // HTTP side (a notice sent after the HTTP write lost the race with a kill -9 too often; the
      // client then got those bytes twice).
      replication.delivered(session.replicated(), readId);
    }
  }

  /**
   * Whether {@code cause} says the session's copy holder is out of reach (a partition): then the
   * request is refused and the session kept, served again once the holder answers. A write already
   * given to the backend when its copy could not be made is refused too: the copy, and so a side
   * that adopts the session, never has it (src/site/markdown/cluster.md, limits).
   */
  private static boolean cutOff(Throwable cause, Message<TunnelCommand> msg) {
    if (cause instanceof CutOff) {
      msg.reply(TunnelReply.failed(SessionFailure.CUT_OFF, "The proxy node serving this session cannot reach the "
          + "cluster node that holds its copy (a network partition): try again"));
      return true;
    }
    return false;
  }

  /** Bytes handed out were taken back or dropped outside a read: the copies learn how far the client now is. */
  private void progressChanged(Session session) {
    Progress now = session.progress();
    replication.handedOut(session.replicated(), new Handout(now, now, null, 0, true));
  }

  /**
   * What the client's next request says of an answer taken back when the node that relayed it
   * died ({@link #memberLeft}): a write, that the client had it (a DBX client writes only after its
   * last answer was whole), so it is dropped; a read, that it did not, so it is read again.
   */
  private void settle(SessionEntry e, TunnelCommand cmd) {
    if (cmd.kind() == TunnelCommand.Kind.WRITE || cmd.kind() == TunnelCommand.Kind.CLOSE) {
      if (e.retaken > 0) {
        e.session().answers().read(e.retaken, 0, 1, TunnelReply.noDataYet());
        progressChanged(e.session());
      }
      e.retaken = 0;
      e.lastRelayed = null;
    } else if (cmd.kind() == TunnelCommand.Kind.READ) {
      e.retaken = 0;
    }
  }

  /**
   * Node {@code origin} says the answer it relayed for read {@code readId} is going to its client:
   * the client has it, and the copies learn it.
   */
  private void delivered(SessionEntry e, String origin, long readId) {
    Relayed r = e.lastRelayed;
    if (r != null && r.origin().equals(origin) && r.readId() == readId && !e.forgotten) {
      r.sent().tryComplete();
      replication.delivered(e.session().replicated(), readId);
    }
  }

  /**
   * A read from another place than the node that relayed the last answer: if that node never said
   * it passed the answer on, and is gone, the answer died with it and this read is the client's
   * retry (a front retries a read whose node died on another node at once, often before this node
   * hears of the death). The answer is taken back, to be given again. A relaying node that still
   * runs had it written (its notice is late): the client has it.
   */
  private Future<Void> relayedBefore(SessionEntry e, String origin) {
    // A read still being handed out (its copies told) is the last one once it is done: waited for.
    return e.handingOut.transform(done -> relayedBeforeNow(e, origin));
  }

  private Future<Void> relayedBeforeNow(SessionEntry e, String origin) {
    Relayed r = e.lastRelayed;
    if (r == null || r.origin().equals(origin) || r.sent().future().isComplete()) {
      return Future.succeededFuture();
    }
    return r.sent().future().timeout(DELIVERY_GRACE_MS, TimeUnit.MILLISECONDS)
        .recover(late -> replication.relayGone(r.origin()).compose(gone -> {
          if (gone && e.lastRelayed == r) {
            takeBack(e, r.origin(), 0);
          }
          return Future.succeededFuture();
        }))
        .otherwiseEmpty();
  }

  /**
   * The same read (its node, its id) asks again for what it was last given: that answer never
   * reached its client (the node relaying it stopped waiting for it, this node being too slow, and
   * asks again for the same client request). It is taken back, to be given again.
   */
  private void askedAgain(SessionEntry e, String origin, long readId) {
    if (origin != null && readId != 0) {
      takeBack(e, origin, readId);
    }
  }

  /** A read took {@code reply}'s bytes: kept a while if another node relays them, which may die first. */
  private void handedOut(SessionEntry e, String origin, long readId, TunnelReply reply) {
    e.lastRelayed = origin != null && reply.data().length() <= RELAYED_KEPT_BYTES
        ? new Relayed(origin, readId, reply.data(), reply.offset()) : null;
    if (origin != null && gone.contains(origin)) {
      retake(e, origin);  // the node is already gone: nobody will pass these bytes on
    }
  }

  /**
   * Member {@code node} left the cluster: a read it relayed may have died with it, its answer
   * taken from the session but never passed on (the client's retried read would then wait
   * forever). If that answer is still the last one handed out, it is taken back; the client's
   * next request settles whether it had it ({@link #settle}).
   */
  void memberLeft(String node, List<SessionEntry> entries) {
    if (gone.add(node) && gone.size() > GONE_KEPT) {
      gone.remove(gone.iterator().next());
    }
    entries.forEach(e -> retake(e, node));
  }

  /**
   * Takes back the session's last answer if node {@code gone} relayed it, it is still the last
   * handed out, and the node never said it passed it on.
   */
  private void retake(SessionEntry e, String gone) {
    if (e.lastRelayed != null && e.lastRelayed.sent().future().isComplete()) {
      return;
    }
    boolean waiting = e.session().hasWaitingReads();
    int bytes = takeBack(e, gone, 0);
    if (bytes > 0 && !waiting) {
      e.retaken = bytes;
    }
  }

  /**
   * Takes back the last answer a relayed read took, if node {@code origin} relayed it (and
   * {@code readId} asked for it, unless 0) and it is still the last handed out: its length, or 0.
   * Callback channels are left alone: their reads go on without writes to settle them.
   */
  private int takeBack(SessionEntry e, String origin, long readId) {
    Relayed r = e.lastRelayed;
    if (r == null || !r.origin().equals(origin) || readId != 0 && r.readId() != readId || e.forgotten
        || e.session().calls().channelOpen()) {
      return 0;
    }
    e.lastRelayed = null;
    if (!e.session().unread(r.bytes(), r.offset())) {
      return 0;
    }
    progressChanged(e.session());
    return r.bytes().length();
  }

  /** This node no longer owns the session (another adopted it, or it was handed over): it goes quietly. */
  void forget(SessionEntry e) {
    if (!e.forgotten) {
      e.forgotten = true;
      replication.forget(e.session().replicated());
      // Held reads are sent on to the owner by the node that asked (not told that the session expired).
      e.session().answers().failReads(SessionFailure.NOT_HERE, null);
      e.session().expire("moved to another node");
    }
  }

  /**
   * Starts handing sessions over to a node holding their copy: every idle one, and with
   * {@code busyToo} (the leaving node's drain time is up) the busy ones as well, which must not end
   * with the node (cluster.md §5). The hand-over takes its place in the session's queue of
   * requests: those before it are served here, those after it are sent on to the new owner. An
   * idle session goes only if, at its turn, nothing is owed (every answer accepted has been read);
   * a busy one stops taking answers from its backend first, so that nothing more is handed out
   * here, and the new owner replays its log from what the client has, as after a death. A session
   * whose ownership is still being settled (a hand-over or a request's check under way) is left
   * for the leaving node's next round.
   */
  void handOver(List<SessionEntry> entries, boolean busyToo) {
    for (SessionEntry e : entries) {
      Session s = e.session();
      if (e.forgotten || e.removed || !e.owned.isComplete() || s.state() != SessionState.ACTIVE
          && !(busyToo && s.state() == SessionState.FAILING_OVER) || !busyToo && busy(s)) {
        continue;
      }
      e.owned = e.owned.transform(ar -> {
        if (e.forgotten || !busyToo && busy(s)) {
          return Future.succeededFuture(!e.forgotten);
        }
        if (busy(s)) {
          s.detach();  // no answer is handed out here any more: the new owner's replay gives it
        }
        return replication.handOver(s.replicated()).map(v -> false).otherwise(true);
      }).onSuccess(owned -> {
        if (!owned) {
          forget(e);
        }
      });
    }
  }

  private static boolean busy(Session s) {
    return s.owesTheClient() || s.hasWaitingReads();
  }

}
