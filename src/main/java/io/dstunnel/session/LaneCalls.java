// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session;

import io.dstunnel.session.message.TunnelCommand;
import io.dstunnel.session.message.TunnelReply;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;

/**
 * The requests a session verticle takes straight from the HTTP side on its own event loop, not
 * over the event bus: no reply address, reply handler or timer for each, the cost that a local
 * request-reply pays. What the bus gave them is kept: each request is queued on the session's
 * context as a bus message would be, so it takes its turn behind requests of the same session
 * queued before it (from other event loops, other nodes); the answer reaches the caller as a task
 * of its own on the caller's context, never nested in the session's code; and a request the
 * session has not answered by its deadline fails as a bus request would
 * ({@link ReplyFailure#TIMEOUT}), checked by {@link #expire} rather than a timer per request. All
 * of it on the one event loop that runs both. The calls waiting are a list linked through
 * themselves: adding and removing one allocates nothing more.
 */
final class LaneCalls {

  /** A request taken on the lane and waiting for its answer. */
  static final class Call implements SessionRequest {
    private final TunnelCommand command;
    private final Context caller;
    private final Promise<TunnelReply> answer = Promise.promise();
    private final long deadline;
    private Call prev;
    private Call next;
    private LaneCalls list;

    private Call(TunnelCommand command, Context caller, long deadline) {
      this.command = command;
      this.caller = caller;
      this.deadline = deadline;
    }

    @Override
    public TunnelCommand command() {
      return command;
    }

    /** The session's answer, on the caller's context. */
    Future<TunnelReply> answer() {
      return answer.future();
    }

    @Override
    public void reply(TunnelReply reply) {
      if (list != null) {
        list.remove(this);
        caller.runOnContext(v -> answer.tryComplete(reply));
      }
    }

    private void fail(ReplyFailure failure, String message) {
      list.remove(this);
      caller.runOnContext(v -> answer.tryFail(new ReplyException(failure, message)));
    }
  }

  private Call head;
  private Call tail;

  /**
   * Registers {@code command}, to be answered on {@code caller} by the session within
   * {@code timeoutMs}.
   */
  Call add(TunnelCommand command, Context caller, long timeoutMs) {
    Call c = new Call(command, caller, System.nanoTime() + timeoutMs * 1_000_000);
    c.list = this;
    c.prev = tail;
    if (tail == null) {
      head = c;
    } else {
      tail.next = c;
    }
    tail = c;
    return c;
  }

  private void remove(Call c) {
    if (c.prev == null) {
      head = c.next;
    } else {
      c.prev.next = c.next;
    }
    if (c.next == null) {
      tail = c.prev;
    } else {
      c.next.prev = c.prev;
    }
    c.prev = null;
    c.next = null;
    c.list = null;
  }

  /** Fails the calls past their deadline, as a bus request's timer would. */
  void expire(long now) {
    for (Call c = head; c != null; ) {
      Call next = c.next;
      if (now - c.deadline > 0) {
        c.fail(ReplyFailure.TIMEOUT, "Timed out after waiting for the session");
      }
      c = next;
    }
  }
}
