// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.dstunnel.session.Addresses;
import io.dstunnel.session.message.SessionFailure;
import io.dstunnel.session.message.TunnelCommand;
import io.dstunnel.session.message.TunnelReply;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the node that owns a session this node does not hold, and forwards a request to it. When
 * the owner does not acknowledge within {@code suspectAfterMs} (dead, paused, cut off), the node
 * that holds the session's copy is asked to adopt it ({@link Takeover}), and the request goes to
 * the adopter: the request that noticed is served. A held read is forwarded in slices of half
 * that time, so its owner's silence is noticed as quickly.
 */
public final class SessionRouter {

  private static final Logger LOG = LoggerFactory.getLogger(SessionRouter.class);
  private static final int ATTEMPTS = 4;
  /** How long the owner holds a relayed read the first time before it says it has nothing yet. */
  private static final long FIRST_SLICE_MS = 50;

  private final ClusterNode node;
  private final EventBus bus;
  private final Takeover takeover;
  /**
   * Reads this node relayed that the owner held and answered with nothing yet (the latest few):
   * if the owner dies under one, the read is no read sent again for an answer lost with it.
   */
  private final Set<Long> heldReads = Collections.newSetFromMap(new LinkedHashMap<>() {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, Boolean> eldest) {
      return size() > 4096;
    }
  });

  public SessionRouter(ClusterNode node) {
    this.node = node;
    this.bus = node.vertx().eventBus();
    this.takeover = new Takeover(node, this::forward);
  }

  /** Whether {@code cmd} is a read this node relayed before, that its owner held with nothing to give yet. */
  private boolean held(TunnelCommand cmd) {
    return cmd.kind() == TunnelCommand.Kind.READ && heldReads.contains(cmd.readId());
  }

  /** Sends to {@code owner}'s inbox; fails as soon as the owner is known to be gone (see {@link ClusterNode#request}). */
  private Future<TunnelReply> toOwner(String owner, TunnelCommand cmd, long timeout) {
    DeliveryOptions options = ClusterNode.within(timeout);
    if (cmd.kind() == TunnelCommand.Kind.READ) {
      options.addHeader(Addresses.ORIGIN, node.id());  // where the answer goes: taken back if this node dies
      options.addHeader(Addresses.ORIGIN_VIEW, Integer.toString(node.viewId()));
    }
    return node.request(owner, Addresses.nodeInbox(owner), cmd, options);
  }

  /** Forwards {@code cmd} (for a session not held here) to its owner, adopting it if the owner is gone. */
  Future<TunnelReply> forward(TunnelCommand cmd) {
    return forward(cmd, 0, false, 0);
  }

  /**
   * What the session on this node answered ({@code here}), or, when it is not here (it said
   * {@link SessionFailure#NOT_HERE}, or nothing listens at its address on this node), what the node
   * that owns it answers ({@link #forward}). Other failures of {@code here} are the caller's.
   */
  public Future<TunnelReply> hereOrOwner(TunnelCommand cmd, Future<TunnelReply> here) {
    return here.transform(ar -> answered(ar) ? Future.succeededFuture(ar.result())
        : notHere(ar) ? forward(cmd) : Future.failedFuture(ar.cause()));
  }

  /** Whether the session on this node answered a request: it is here. */
  static boolean answered(AsyncResult<TunnelReply> ar) {
    return ar.succeeded() && ar.result().failure() != SessionFailure.NOT_HERE;
  }

  /**
   * Whether a request the session on this node did not answer ({@link #answered} false) found it
   * not here: it said so, or no session has that address on this node.
   */
  static boolean notHere(AsyncResult<TunnelReply> ar) {
    return ar.succeeded() || ar.cause() instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS;
  }

  /**
   * Tells a session's owner on another node that a read this node relayed is being written to its
   * client (nothing to tell when this node owns it: it knows).
   */
  public void delivered(TunnelCommand cmd) {
    SessionRecord r = node.directory().cached(cmd.sessionId());
    if (r != null && !r.owner().equals(node.id())) {
      bus.send(Addresses.nodeInbox(r.owner()), cmd, new DeliveryOptions().addHeader(Addresses.ORIGIN, node.id()));
    }
  }

  /** Sends a command that wants no answer (cancel a read, give bytes back) to wherever the session lives. */
  public void send(TunnelCommand cmd) {
    SessionRecord r = node.directory().cached(cmd.sessionId());
    if (r == null || r.owner().equals(node.id())) {
      bus.send(Addresses.session(cmd.sessionId()), cmd, Addresses.LOCAL);
    } else {
      bus.send(Addresses.nodeInbox(r.owner()), cmd);
    }
  }

  /** {@code waits}: half-second waits so far for a split to heal (up to {@link ClusterTimings#splitWaitMs}). */
  private Future<TunnelReply> forward(TunnelCommand cmd, int attempt, boolean fresh, int waits) {
    String sid = cmd.sessionId();
    if (attempt >= ATTEMPTS) {
      return expired(cmd, "no owner answered after " + ATTEMPTS + " attempts");
    }
    Directory directory = node.directory();
    return (fresh ? directory.fresh(sid) : directory.lookup(sid)).compose(r -> {
      if (r == null) {
        return takeover.fromCopyHere(cmd, held(cmd), attempt, waits);
      }
      if (r.owner().equals(node.id())) {
        // This node owns it (it may just have adopted it): the session is on the local bus, or gone.
        return bus.<TunnelReply>request(Addresses.session(sid), cmd, local(cmd)).map(m -> m.body())
            .recover(err -> Future.succeededFuture(TunnelReply.failed(SessionFailure.NOT_HERE, err.getMessage())))
            .compose(reply -> reply.failure() != SessionFailure.NOT_HERE ? Future.succeededFuture(reply)
                : fresh ? expired(cmd, "not on this node, which owns it (" + reply.message() + ")")
                : forward(cmd, attempt + 1, true, waits));
      }
      node.metrics().forwarded();
      TunnelCommand sent = cmd;
      long timeout = node.config().suspectAfterMs();
      if (cmd.kind() == TunnelCommand.Kind.READ) {
        // A read's first slice is short: the owner that has nothing to give it says so at once,
        // and this node knows the read waited there (see heldReads).
        long slice = Math.max(1, Math.min(cmd.sliceMs(),
            heldReads.contains(cmd.readId()) ? timeout / 2 : Math.min(FIRST_SLICE_MS, timeout / 2)));
        sent = cmd.slice(slice);
        timeout += slice;
      }
      long sentAt = System.nanoTime();
      long deadline = timeout;
      return toOwner(r.owner(), sent, timeout)
          .transform(ar -> {
            boolean late = ar.succeeded() && late(r.owner(), cmd, ar.result(), sentAt, deadline);
            if (ar.succeeded() && !late) {
              TunnelReply reply = ar.result();
              if (reply.kind() == TunnelReply.Kind.NO_DATA_YET) {
                heldReads.add(cmd.readId());  // the owner had this read, with nothing to give it
              }
              if (reply.isOutOfView()) {
                return outOfView(cmd, attempt, waits, reply);
              }
              if (reply.failure() != SessionFailure.NOT_HERE) {
                return Future.succeededFuture(reply);
              }
              if (reply.message() != null) {
                directory.learn(SessionRecord.fromAnnouncement(reply.message()));
                return forward(cmd, attempt + 1, false, waits);
              }
              return forward(cmd, attempt + 1, true, waits);
            }
            if (ar.cause() instanceof ReplyException re && re.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
              return Future.failedFuture(ar.cause());
            }
            LOG.info("node {}: {} of session {} to node {} failed ({}): asking its copy holders", node.id(),
                cmd.kind(), sid, r.owner(), late ? "answered after its deadline" : ar.cause().getMessage());
            // The owner is dead or silent: the copy holder takes the session over.
            return takeover.ofSilentOwner(r, cmd, held(cmd), attempt, fresh, waits);
          });
    });
  }

  /**
   * Whether {@code answer} to {@code read} came after the read's deadline ({@code deadlineMs} after
   * {@code sentAt}): this node was paused (a frozen VM, a {@code SIGSTOP}) with the answer on its
   * way, and on waking read it before the read's timer fired. An answer its owner keeps to take
   * back counts as no answer, as when the timer fires first: the owner may have taken this node
   * out meanwhile (a pause outlasting the cluster manager's suspicion), and with it the answer back
   * for the client's next read. Written now, the client would get those bytes twice; the read
   * asked again gets them once (taken back, and given again).
   */
  private boolean late(String owner, TunnelCommand read, TunnelReply answer, long sentAt, long deadlineMs) {
    if (!answer.isTakenBackIfLost() || System.nanoTime() - sentAt <= deadlineMs * 1_000_000) {
      return false;  // an answer its owner cannot take back (too large to keep, a channel's) goes on
    }
    LOG.warn("node {}: an answer of session {} came from node {} after its read's deadline (this node was paused?): "
        + "not passed on", node.id(), read.sessionId(), owner);
    node.metrics().lateAnswer();
    return true;
  }

  /**
   * The owner refused a read relayed by this node, which is out of its view (this node was paused
   * or cut off long enough for the group to take it out): asked again every half second until
   * this node is back in the view, as a split is waited out, then 503.
   */
  private Future<TunnelReply> outOfView(TunnelCommand cmd, int attempt, int waits, TunnelReply refusal) {
    if (waits < node.timings().rejoinWaitMs() / 500) {
      return node.vertx().timer(500).compose(v -> forward(cmd, attempt, false, waits + 1));
    }
    node.metrics().cutOff();
    LOG.warn("node {}: {} of session {} refused: this node is out of its owner's view", node.id(), cmd.kind(),
        cmd.sessionId());
    return Future.succeededFuture(refusal);
  }

  /**
   * Delivery of a relayed request to the session on this node: a read waits its slice and 10 s
   * more, anything else 30 s.
   */
  static DeliveryOptions local(TunnelCommand cmd) {
    long timeout = cmd.kind() == TunnelCommand.Kind.READ ? cmd.sliceMs() + 10_000 : 30_000;
    return new DeliveryOptions(Addresses.LOCAL).setSendTimeout(timeout);
  }

  /** The session is unknown to the cluster ({@code why} null), or could not be reached: said in the log. */
  private Future<TunnelReply> expired(TunnelCommand cmd, String why) {
    return expired(node, cmd, why);
  }

  /** {@link #expired(TunnelCommand, String)} as seen by {@code node}. */
  static Future<TunnelReply> expired(ClusterNode node, TunnelCommand cmd, String why) {
    if (why != null) {
      LOG.warn("node {}: {} of session {} answered 404: {}", node.id(), cmd.kind(), cmd.sessionId(), why);
      node.metrics().unreachable();
    }
    return expired();
  }

  private static Future<TunnelReply> expired() {
    return Future.succeededFuture(TunnelReply.failed(SessionFailure.EXPIRED, "Session expired"));
  }
}
