// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.call;

import io.dstunnel.backend.Backend;
import io.dstunnel.channels.ChannelDirectory;
import io.dstunnel.events.EventLog;

/**
 * The callback channel a session may have become ({@code DSAdmin.ConnectClientChannel}, its
 * registration call owed an answer until the channel closes), and the proxy-wide channel directory
 * told which backend holds it as the session connects, moves and leaves.
 */
final class Channel {

  private final String session;
  private final ChannelDirectory directory;
  private final EventLog events;
  /** The registration, owed an answer while the channel is open; null: no channel. */
  private Calls.Call registration;

  Channel(String session, ChannelDirectory directory, EventLog events) {
    this.session = session;
    this.directory = directory;
    this.events = events;
  }

  boolean open() {
    return registration != null;
  }

  /** The name of the open channel, or null. */
  String name() {
    return registration == null ? null : registration.channel;
  }

  /** Whether the registration went to a backend (so a new connection moves the channel). */
  boolean sent() {
    return registration != null && registration.sent;
  }

  /** The client registered the channel with {@code call}; the directory learns it if {@code home} has it. */
  void registered(Calls.Call call, boolean sent, Backend home) {
    registration = call;
    if (sent && home != null) {
      directory.opened(call.channel, home.name());
    }
  }

  /** The backend answered {@code call}: if it is the registration, the channel closed. */
  void answered(Calls.Call call, Backend home) {
    if (call == registration) {
      registration = null;
      if (home != null) {
        directory.closed(call.channel, home.name());
      }
    }
  }

  /**
   * A new connection to {@code next} gets the log: the channel, if logged, lives there now
   * ({@code moves}: it was on another backend before).
   */
  void replayedTo(Backend next, boolean moves) {
    if (registration != null && registration.inLog) {
      directory.opened(registration.channel, next.name());
      if (moves) {
        events.channelReplayed(session, registration.channel, next.name());
      }
    }
  }

  /** The session left {@code home} (lost, moved, ended): the channel is no longer there. */
  void left(Backend home) {
    if (registration != null && home != null) {
      directory.closed(registration.channel, home.name());
    }
  }
}
