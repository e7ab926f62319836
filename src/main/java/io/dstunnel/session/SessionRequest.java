// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session;

import io.dstunnel.session.message.TunnelCommand;
import io.dstunnel.session.message.TunnelReply;
import io.vertx.core.eventbus.Message;

/**
 * A request to a session and where its answer goes: the reply to an event-bus message (another
 * thread's HTTP side, another node, an operator), or a {@link LaneCalls call} from the HTTP side
 * on the session's own event loop. A request sent without waiting for an answer ignores it.
 */
interface SessionRequest {

  TunnelCommand command();

  /** The node that relayed the request ({@link Addresses#ORIGIN}); null for this node's own. */
  default String origin() {
    return null;
  }

  /**
   * The cluster manager's view the relaying node was in when it sent the request
   * ({@link Addresses#ORIGIN_VIEW}); -1 when not known (this node's own, or a node of an earlier
   * version).
   */
  default int originView() {
    return -1;
  }

  void reply(TunnelReply reply);

  /** {@code command} from this node's HTTP side, which wants no answer. */
  static SessionRequest oneWay(TunnelCommand command) {
    return new OneWay(command);
  }

  /** A request from this node's HTTP side that wants no answer. */
  record OneWay(TunnelCommand command) implements SessionRequest {
    @Override
    public void reply(TunnelReply reply) {
    }
  }

  static SessionRequest of(Message<TunnelCommand> msg) {
    return new SessionRequest() {
      @Override
      public TunnelCommand command() {
        return msg.body();
      }

      @Override
      public String origin() {
        return msg.headers().get(Addresses.ORIGIN);
      }

      @Override
      public int originView() {
        String view = msg.headers().get(Addresses.ORIGIN_VIEW);
        try {
          return view == null ? -1 : Integer.parseInt(view);
        } catch (NumberFormatException e) {
          return -1;
        }
      }

      @Override
      public void reply(TunnelReply reply) {
        msg.reply(reply);
      }
    };
  }
}
