// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.dstunnel.session.Addresses;
import io.dstunnel.session.message.SessionFailure;
import io.dstunnel.session.message.TunnelCommand;
import io.dstunnel.session.message.TunnelReply;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;

/**
 * This node's inbox ({@code Addresses.nodeInbox}), where other nodes forward requests for the
 * sessions it owns: each is relayed to the session on the local bus, with the node it came from
 * (where a read's answer goes). A session not here is answered "not here", with the owner this node
 * knows; one it is adopting at that moment gets the request once the adoption is done. Used on the
 * cluster verticle's event loop.
 */
final class NodeInbox {

  private final Vertx vertx;
  private final ClusterNode node;
  private final Adoptions adoptions;

  NodeInbox(ClusterNode node, Adoptions adoptions) {
    this.vertx = node.vertx();
    this.node = node;
    this.adoptions = adoptions;
  }

  /** A request forwarded by another node: to the session, if it lives here. */
  void relay(Message<TunnelCommand> msg) {
    TunnelCommand cmd = msg.body();
    String address = Addresses.session(cmd.sessionId());
    if (cmd.kind() == TunnelCommand.Kind.CANCEL_READ || cmd.kind() == TunnelCommand.Kind.UNREAD
        || cmd.kind() == TunnelCommand.Kind.DELIVERED) {
      DeliveryOptions local = new DeliveryOptions(Addresses.LOCAL);
      String origin = msg.headers().get(Addresses.ORIGIN);
      if (origin != null) {
        local.addHeader(Addresses.ORIGIN, origin);
      }
      vertx.eventBus().send(address, cmd, local);
      return;
    }
    toSession(msg, cmd, false);
  }

  /**
   * Gives a forwarded request to the session here. A session this node is taking over at that
   * moment (another node learned of the adoption first) gets it once the adoption is done
   * ({@code again}: this is that second try); otherwise "not here", with the owner this node knows.
   */
  private void toSession(Message<TunnelCommand> msg, TunnelCommand cmd, boolean again) {
    DeliveryOptions local = SessionRouter.local(cmd);
    String origin = msg.headers().get(Addresses.ORIGIN);
    if (origin != null) {
      local.addHeader(Addresses.ORIGIN, origin);
      String view = msg.headers().get(Addresses.ORIGIN_VIEW);
      if (view != null) {
        local.addHeader(Addresses.ORIGIN_VIEW, view);
      }
    }
    vertx.eventBus().<TunnelReply>request(Addresses.session(cmd.sessionId()), cmd, local).map(m -> m.body())
        .onComplete(ar -> {
          if (SessionRouter.answered(ar)) {
            msg.reply(ar.result());
          } else if (SessionRouter.notHere(ar)) {
            Future<CopyOp> adoption = adoptions.underWay(cmd.sessionId());
            if (adoption != null && !again) {
              adoption.onComplete(done -> toSession(msg, cmd, true));
              return;
            }
            // Not here (any more): say who owns it, if this node knows.
            SessionRecord r = node.directory().cached(cmd.sessionId());
            msg.reply(TunnelReply.failed(SessionFailure.NOT_HERE, r == null || r.owner().equals(node.id()) ? null
                : r.announce()));
          } else {
            msg.reply(TunnelReply.failed(SessionFailure.INTERNAL, String.valueOf(ar.cause())));
          }
        });
  }
}
