package io.dstunnel.session;

import io.vertx.core.Future;
import io.vertx.core.eventbus.Message;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * A session verticle's side of the cluster: a session's requests are served only while this node
 * owns it (checked in arrival order), what a write took is copied to the backup nodes before the
 * client hears that it was taken, a forwarded write sent again is not applied twice, and idle
 * sessions are handed over when the node leaves. A single node never comes here.
 */
final class ClusterGate {

  private final Replication replication;

  ClusterGate(Replication replication) {
    this.replication = replication;
  }

  void dispatch(SessionEntry e, Message<TunnelCommand> msg, BiConsumer<Session, Message<TunnelCommand>> apply) {
    TunnelCommand cmd = msg.body();
    Session session = e.session();
    Future<Boolean> owned = e.owned.transform(ar -> ar.succeeded() && !ar.result() ? Future.succeededFuture(false)
        : replication.stillOwner(session));
    e.owned = owned;
    owned.onComplete(ar -> {
      if (e.forgotten || ar.failed() || !ar.result()) {
        forget(e);
        msg.reply(TunnelReply.failed(SessionFailure.NOT_HERE, null));
      } else if (cmd.kind() == TunnelCommand.Kind.WRITE && replication.applied(session, cmd.readId())) {
        msg.reply(TunnelReply.accepted(session.id(), cmd.body().length()));
      } else if (cmd.kind() == TunnelCommand.Kind.WRITE) {
        session.write(cmd.body()).onSuccess(reply -> {
          if (reply.kind() != TunnelReply.Kind.ACCEPTED) {
            msg.reply(reply);
            return;
          }
          replication.wrote(session, cmd.body(), cmd.readId()).onComplete(copied -> {
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
      }
    });
  }

  /** This node no longer owns the session (another adopted it, or it was handed over): it goes quietly. */
  void forget(SessionEntry e) {
    if (!e.forgotten) {
      e.forgotten = true;
      replication.forget(e.session());
      e.session().expire("moved to another node");
    }
  }

  /**
   * Starts handing every idle session over to a node holding its copy. The hand-over takes its
   * place in the session's queue of requests: those before it are served here, those after it are
   * sent on to the new owner, and it goes only if, at its turn, nothing is owed (every answer
   * accepted has been read). A session whose ownership is still being settled (a hand-over or a
   * request's check under way) is left for the leaving node's next round.
   */
  void handOver(List<SessionEntry> entries) {
    for (SessionEntry e : entries) {
      Session s = e.session();
      if (e.forgotten || e.removed || !e.owned.isComplete() || s.state() != SessionState.ACTIVE
          || s.owesTheClient() || s.hasWaitingReads()) {
        continue;
      }
      e.owned = e.owned.transform(ar -> {
        if (e.forgotten || s.owesTheClient() || s.hasWaitingReads()) {
          return Future.succeededFuture(!e.forgotten);
        }
        return replication.handOver(s).map(v -> false).otherwise(true);
      }).onSuccess(owned -> {
        if (!owned) {
          forget(e);
        }
      });
    }
  }

}
