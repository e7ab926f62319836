// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session;

import io.dstunnel.session.message.TunnelCommand;
import io.dstunnel.session.message.TunnelReply;
import io.vertx.core.Future;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.PromiseInternal;

/**
 * The requests a session verticle takes straight from the HTTP side on its own event loop, not
 * over the event bus: no reply address, reply handler or timer for each, the cost that a local
 * request-reply pays. What the bus gave them is kept: the session runs each request on its own
 * context, the answer reaches the caller on the caller's context as a task of its own (never
 * nested in the session's code), and a request the session has not answered by its deadline fails
 * as a bus request would ({@link ReplyFailure#TIMEOUT}), checked by {@link #expire} rather than a
 * timer per request. The calls waiting are a list linked through themselves: adding and removing
 * one allocates nothing more.
 */
final class LaneCalls {

  /** A request taken on the lane and waiting for its answer. */
  static final class Call implements SessionRequest {
    private final TunnelCommand command;
    private final ContextInternal caller;
    private final PromiseInternal<TunnelReply> answer;
    private final long deadline;
    private Call prev;
    private Call next;
    private LaneCalls list;

    private Call(TunnelCommand command, ContextInternal caller, long deadline) {
      this.command = command;
      this.caller = caller;
      this.answer = caller.promise();
      this.deadline = deadline;
    }

    @Override
    public TunnelCommand command() {
      return command;
    }

    @Override
    public String origin() {
      return null;
    }

    @Override
    public void reply(TunnelReply reply) {
      if (list != null) {
        list.remove(this);
        caller.execute(reply, answer::tryComplete);
      }
    }

    private void fail(ReplyFailure failure, String message) {
      list.remove(this);
      caller.execute(new ReplyException(failure, message), answer::tryFail);
    }
  }

  private Call head;
  private Call tail;

  /**
   * Registers {@code command}, to be answered on {@code caller} by the session within
   * {@code timeoutMs}.
   */
  Call add(TunnelCommand command, ContextInternal caller, long timeoutMs) {
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

  static Future<TunnelReply> answer(Call c) {
    return c.answer.future();
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

  /** Fails every call still waiting: its session verticle is gone, as if nobody listened. */
  void abandon() {
    while (head != null) {
      head.fail(ReplyFailure.NO_HANDLERS, "The session's verticle stopped");
    }
  }
}
