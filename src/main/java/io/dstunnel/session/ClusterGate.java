// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session;

import io.dstunnel.session.copy.CutOff;
import io.dstunnel.session.copy.Handout;
import io.dstunnel.session.copy.Replication;
import io.dstunnel.session.message.SessionFailure;
import io.dstunnel.session.message.TunnelCommand;
import io.dstunnel.session.message.TunnelReply;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.internal.ContextInternal;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * A session verticle's side of the cluster: a session's requests are served only while this node
 * owns it (checked in arrival order), what a write took is copied to the backup nodes before the
 * client hears that it was taken, a forwarded write sent again is not applied twice, and idle
 * sessions are handed over when the node leaves. Answers relayed by other nodes, which may die
 * before passing them on, are each session's {@link RelayedAnswers}. A single node never comes here.
 */
final class ClusterGate {

  private static final int GONE_KEPT = 64;

  private final Replication replication;
  /** The session verticle's context: every request's ownership check ends there. */
  private final ContextInternal context;
  /**
   * Members that left, most recent last (bounded): a read relayed by one of them has nobody to go
   * to, unless it came back and sent the read since.
   */
  private final Set<String> gone = new LinkedHashSet<>();

  ClusterGate(Replication replication, Context context) {
    this.replication = replication;
    this.context = (ContextInternal) context;
  }

  void dispatch(SessionEntry e, SessionRequest req, BiConsumer<Session, SessionRequest> apply) {
    TunnelCommand cmd = req.command();
    Session session = e.session();
    String origin = req.origin();
    if (cmd.kind() == TunnelCommand.Kind.DELIVERED) {
      e.relayed.delivered(origin, cmd.readId());
      return;
    }
    Future<Boolean> owned = e.owned().transform(ar -> ar.succeeded() && !ar.result() ? Future.succeededFuture(false)
        : replication.stillOwner(e.copy()));
    // A read relayed by a node out of this one's view is refused before anything is handed out.
    boolean fromGone = cmd.kind() == TunnelCommand.Kind.READ && gone(origin, req.originView());
    if (cmd.kind() == TunnelCommand.Kind.READ && !fromGone) {
      owned = owned.compose(own -> own ? e.relayed.relayedBefore(origin).map(own) : Future.succeededFuture(own));
    }
    // Heard on this verticle's event loop whichever thread ends the check (a timer, another
    // verticle's answer): the session is touched there only.
    Promise<Boolean> here = context.promise();
    owned.onComplete(here);
    owned = here.future();
    e.checkOwned(owned);
    owned.onComplete(ar -> {
      if (!e.forgotten() && cutOff(ar.cause(), req)) {
        return;
      }
      if (e.forgotten() || ar.failed() || !ar.result()) {
        forget(e);
        req.reply(TunnelReply.failed(SessionFailure.NOT_HERE, null));
        return;
      }
      if (fromGone) {
        // It may run (paused, or cut off, and not yet back): an answer it passed on would also be
        // taken back at its leave, and read twice. It asks again once back, or the client elsewhere.
        req.reply(TunnelReply.outOfView());
        return;
      }
      e.relayed.settle(cmd);
      if (cmd.kind() == TunnelCommand.Kind.READ) {
        e.relayed.askedAgain(origin, cmd.readId());
        SessionVerticle.read(session, cmd).onSuccess(reply -> {
          if (reply.kind() != TunnelReply.Kind.DATA) {
            req.reply(reply);
            return;
          }
          // The copies learn what the client is given before it goes out (cluster.md §3).
          Handout handout = new Handout(session.progressAt(reply.offset()),
              session.progressAt(reply.offset() + reply.data().length()), origin, cmd.readId(), false);
          Promise<Void> recorded = context.promise();
          e.relayed.handingOut(recorded.future());
          replication.handedOut(e.copy(), handout).onComplete(copied -> {
            // Done once lastRelayed says what happened: a read waiting on it looks there next.
            try {
              answer(e, req, origin, reply, copied.cause());
            } finally {
              recorded.complete();
            }
          });
        });
      } else if (cmd.kind() == TunnelCommand.Kind.WRITE && replication.applied(e.copy(), cmd.readId())) {
        req.reply(TunnelReply.accepted(session.id(), cmd.body().length()));
      } else if (cmd.kind() == TunnelCommand.Kind.WRITE) {
        session.write(cmd.body()).onSuccess(reply -> {
          if (reply.kind() != TunnelReply.Kind.ACCEPTED) {
            req.reply(reply);
            return;
          }
          replication.wrote(e.copy(), cmd.body(), cmd.readId()).onComplete(copied -> {
            if (copied.cause() instanceof CutOff) {
              // Already given to the backend: its outcome is unknown to the client, as a write in
              // flight on a dead node's connection (cluster.md §3), not "not run".
              req.reply(TunnelReply.failed(SessionFailure.CUT_OFF, "The proxy node serving this session lost "
                  + "contact with the cluster node that holds its copy (a network partition) while this write was "
                  + "copied: it may have run"));
              return;
            }
            if (copied.failed()) {
              forget(e);
              req.reply(TunnelReply.failed(SessionFailure.NOT_HERE, null));
            } else {
              req.reply(reply);
            }
          });
        });
      } else {
        apply.accept(session, req);
        if (cmd.kind() == TunnelCommand.Kind.UNREAD) {
          e.relayed.progressChanged();
        }
      }
    });
  }

  /** A read's bytes, its copies told ({@code failure} null) or not: to the client, or taken back. */
  private void answer(SessionEntry e, SessionRequest req, String origin, TunnelReply reply,
                      Throwable failure) {
    Session session = e.session();
    long readId = req.command().readId();
    if (failure != null) {
      session.unread(reply.data(), reply.offset());
      if (cutOff(failure, req)) {
        return;
      }
      forget(e);
      req.reply(TunnelReply.failed(SessionFailure.NOT_HERE, null));
      return;
    }
    if (gone(origin, req.originView())) {
      // Its node left while the read waited here: nothing goes to it (it may run, paused or cut
      // off, and pass the answer on, which its leave would have taken back).
      session.unread(reply.data(), reply.offset());
      e.relayed.progressChanged();
      req.reply(TunnelReply.outOfView());
      return;
    }
    boolean kept = e.relayed.handedOut(origin, readId, reply);
    req.reply(kept ? reply.takenBackIfLost() : reply);
    if (origin == null) {
      // Answered here: the copies learn at once that the bytes are on their way to this node's
      // HTTP side (a notice sent after the HTTP write lost the race with a kill -9 too often; the
      // client then got those bytes twice).
      replication.delivered(e.copy(), readId);
    }
  }

  /**
   * Whether member {@code origin}, which relays a read sent in cluster manager view {@code view},
   * has left the cluster: not if it came back since (a partition healed) and sent the read after,
   * or each answer it relays would be taken back as it goes out, and given again to the client's
   * next read. A read it sent before it was cut off, arriving late, still has nobody waiting for it.
   */
  private boolean gone(String origin, int view) {
    return origin != null && gone.contains(origin) && !replication.back(origin, view);
  }

  /**
   * Whether {@code cause} says the session's copy holder is out of reach (a partition): then the
   * request is refused and the session kept, served again once the holder answers. A write already
   * given to the backend when its copy could not be made is refused too: the copy, and so a side
   * that adopts the session, never has it (src/site/markdown/cluster.md, limits).
   */
  private static boolean cutOff(Throwable cause, SessionRequest req) {
    if (cause instanceof CutOff) {
      req.reply(TunnelReply.failed(SessionFailure.CUT_OFF, "The proxy node serving this session cannot reach the "
          + "cluster node that holds its copy (a network partition): try again"));
      return true;
    }
    return false;
  }

  /**
   * Member {@code node} left the cluster: a read it relayed may have died with it, its answer
   * taken from the session but never passed on (the client's retried read would then wait
   * forever). If that answer is still the last one handed out, it is taken back; the client's
   * next request settles whether it had it ({@link RelayedAnswers#settle}), or the node's notice
   * that it passed it on, if it arrives first after all ({@link RelayedAnswers#delivered}).
   */
  void memberLeft(String node, List<SessionEntry> entries) {
    gone.remove(node);  // most recent last, a node that left before included
    if (gone.add(node) && gone.size() > GONE_KEPT) {
      gone.remove(gone.iterator().next());
    }
    entries.forEach(e -> e.relayed.retake(node));
  }

  /** This node no longer owns the session (another adopted it, or it was handed over): it goes quietly. */
  void forget(SessionEntry e) {
    if (!e.forgotten()) {
      e.markForgotten();
      replication.forget(e.copy());
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
      if (e.forgotten() || e.removed() || !e.owned().isComplete() || s.state() != SessionState.ACTIVE
          && !(busyToo && s.state() == SessionState.FAILING_OVER) || !busyToo && busy(s)) {
        continue;
      }
      e.checkOwned(e.owned().transform(ar -> {
        if (e.forgotten() || !busyToo && busy(s)) {
          return Future.succeededFuture(!e.forgotten());
        }
        if (busy(s)) {
          s.detach();  // no answer is handed out here any more: the new owner's replay gives it
        }
        return replication.handOver(e.copy()).map(v -> false).otherwise(true);
      }).onSuccess(owned -> {
        if (!owned) {
          forget(e);
        }
      }));
    }
  }

  private static boolean busy(Session s) {
    return s.owesTheClient() || s.hasWaitingReads();
  }

}
