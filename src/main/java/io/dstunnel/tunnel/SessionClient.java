// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.tunnel;

import io.dstunnel.cluster.SessionRouter;
import io.dstunnel.session.Addresses;
import io.dstunnel.session.SessionIds;
import io.dstunnel.session.SessionLanes;
import io.dstunnel.session.SessionVerticle;
import io.dstunnel.session.message.SessionFailure;
import io.dstunnel.session.message.TunnelCommand;
import io.dstunnel.session.message.TunnelReply;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.ReplyException;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The HTTP side's typed calls to sessions over the event bus. Failures are translated here, once:
 * a session's error reply and the bus's own failures (no such session, no answer in time) become
 * {@link TunnelFailure}s with their status.
 */
final class SessionClient {

  private final EventBus bus;
  private final SessionRouter router;
  private final SessionLanes lanes;
  /** Who acts in a request without credentials: a client known by the session id, or one of a node with no users. */
  private final TunnelCommand.Acting withoutCredentials;
  private final DeliveryOptions shortCall;
  private final DeliveryOptions openCall;
  private final DeliveryOptions readCall =
      new DeliveryOptions().setSendTimeout(SessionVerticle.READ_SLICE_MS + 10_000).setLocalOnly(true);

  /**
   * {@code writeWaitMs}: how long a session may hold a write back; the call waits longer than that.
   * {@code router}: in a cluster, how requests reach sessions owned by other nodes (null: one node).
   * {@code authenticates}: whether this node checks credentials (it has users).
   */
  SessionClient(EventBus bus, long openTimeoutMs, long writeWaitMs, SessionRouter router, SessionLanes lanes,
                boolean authenticates) {
    this.lanes = lanes;
    this.withoutCredentials = authenticates ? TunnelCommand.Acting.SESSION_ID : TunnelCommand.Acting.NO_AUTH;
    this.bus = bus;
    this.router = router;
    this.openCall = new DeliveryOptions().setSendTimeout(openTimeoutMs).setLocalOnly(true);
    this.shortCall = new DeliveryOptions().setSendTimeout(Math.max(30_000, writeWaitMs + 10_000)).setLocalOnly(true);
  }

  /** A session id of the shape the proxy hands out; anything else is a session that does not exist. */
  static String knownShape(String sid) {
    if (!SessionIds.wellFormed(sid)) {
      throw new TunnelFailure(404, "Session expired");
    }
    return sid;
  }

  Future<TunnelReply> open(String user, Buffer body) {
    return call(lanes.openAddress(), named(TunnelCommand.open(user, body)), openCall);
  }

  Future<TunnelReply> write(String sid, String user, Buffer body) {
    TunnelCommand cmd = router == null ? TunnelCommand.write(sid, user, body)
        : TunnelCommand.write(sid, user, body, ThreadLocalRandom.current().nextLong() | 1);
    return call(Addresses.session(sid), named(cmd), shortCall);
  }

  Future<TunnelReply> read(String sid, String user, int max, long readId, long sliceMs) {
    return call(Addresses.session(sid), named(TunnelCommand.read(sid, user, max, readId, sliceMs)), readCall);
  }

  Future<TunnelReply> close(String sid, String user) {
    return call(Addresses.session(sid), named(TunnelCommand.close(sid, user)), shortCall);
  }

  void cancelRead(String sid, String user, long readId) {
    send(named(TunnelCommand.cancelRead(sid, user, readId)));
  }

  /**
   * Read {@code readId}'s answer is being written to its client: in a cluster, an owner on another
   * node learns it (it relayed nothing otherwise).
   */
  void delivered(String sid, String user, long readId) {
    if (router != null) {
      router.delivered(named(TunnelCommand.delivered(sid, user, readId)));
    }
  }

  /** Gives back bytes a read could not deliver. */
  void unread(String sid, String user, TunnelReply read) {
    send(named(TunnelCommand.unread(sid, user, read.data(), read.offset())));
  }

  /**
   * {@code cmd} saying who acts: its user, or, for a request without credentials, the client
   * known by the session id alone (or of a node with no users). The session checks it.
   */
  private TunnelCommand named(TunnelCommand cmd) {
    return cmd.user() != null ? cmd : cmd.by(withoutCredentials);
  }

  private void send(TunnelCommand cmd) {
    if (lanes.send(cmd)) {
      return;
    }
    if (router == null) {
      bus.send(Addresses.session(cmd.sessionId()), cmd, Addresses.LOCAL);
    } else {
      router.send(cmd);
    }
  }

  private Future<TunnelReply> call(String address, TunnelCommand cmd, DeliveryOptions options) {
    Future<TunnelReply> reply = cmd.kind() == TunnelCommand.Kind.OPEN ? null : lanes.call(cmd, options.getSendTimeout());
    if (reply == null) {
      reply = bus.<TunnelReply>request(address, cmd, options).map(m -> m.body());
    }
    if (router != null && cmd.kind() != TunnelCommand.Kind.OPEN) {
      // In a cluster a session not held here is forwarded to the node that owns it.
      reply = router.hereOrOwner(cmd, reply);
    }
    return reply
        .recover(err -> Future.failedFuture(translate(err)))
        .map(r -> {
          if (r.isFailure()) {
            throw new TunnelFailure(status(r.failure()), r.message());
          }
          return r;
        });
  }

  /** The one place where a session's failure becomes an HTTP status (tunnel-protocol.md, errors). */
  static int status(SessionFailure failure) {
    return switch (failure) {
      case EXPIRED, NOT_HERE -> 404;
      case NOT_OWNER -> 403;
      case NO_BACKEND, LOST_BACKEND -> 502;
      case BACKENDS_FULL, PROXY_FULL, DRAINING, BACKEND_NOT_READING, CUT_OFF -> 503;
      case USER_FULL -> 429;
      case UNEXPECTED -> 400;
      case INTERNAL -> 500;
    };
  }

  private static Throwable translate(Throwable err) {
    if (err instanceof ReplyException re) {
      switch (re.failureType()) {
        case NO_HANDLERS:
          return new TunnelFailure(404, "Session expired");
        case TIMEOUT:
          return new TunnelFailure(504, "Session did not answer in time");
        default:
          break;
      }
    }
    return err;
  }
}
