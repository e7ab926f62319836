// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session;

import java.util.List;

/**
 * Event-bus addresses. Opening goes to any session verticle instance; after that a session is
 * reached only at the address derived from its id, wherever (on whichever node) it lives.
 */
public final class Addresses {

  /** Point-to-point: the event bus spreads new sessions round-robin over the session verticles. */
  public static final String OPEN = "dstunnel.session.open";

  private static final String OPEN_PREFIX = "dstunnel.session.open.";

  private static final String LIST_PREFIX = "dstunnel.admin.sessions.";

  private static final String SESSION_PREFIX = "dstunnel.session.id.";

  /**
   * Delivery within this node only. Every address above is served by consumers registered with
   * {@code localConsumer}, which a clustered event bus does not advertise to the other nodes; a
   * send must then say it is local too (cluster traffic goes to the node addresses below).
   */
  public static final io.vertx.core.eventbus.DeliveryOptions LOCAL =
      new io.vertx.core.eventbus.DeliveryOptions().setLocalOnly(true);

  /** What the addresses of {@link #ofNode} start with (a bundle's address is also a copy keeper's). */
  private static final List<String> OF_NODE = List.of(nodeInbox(""), copies(""),
      nodeSessions(""), nodeStatus(""));

  private Addresses() {
  }

  /** Session verticle {@code index}'s own open address (a tunnel instance on its event loop opens there). */
  public static String open(int index) {
    return OPEN_PREFIX + index;
  }

  /** Where session verticle instance {@code index} answers with a snapshot of its sessions. */
  public static String sessionList(int index) {
    return LIST_PREFIX + index;
  }

  /** Where session verticle {@code index} answers how many of its sessions are owed an answer. */
  public static String sessionsOwed(int index) {
    return "dstunnel.admin.owed." + index;
  }

  /** Local: a session verticle takes over a session from its copy (cluster mode). */
  public static final String ADOPT = "dstunnel.session.adopt";
  /** A member left the cluster (its node id): published on this node only, to the session verticles. */
  public static final String MEMBER_LEFT = "dstunnel.cluster.member-left";
  /** Header of a request forwarded by another node: that node's id (where a read's answer goes). */
  public static final String ORIGIN = "dstunnel-origin";
  /**
   * Header of a read forwarded by another node: the cluster manager's view that node was in when it
   * sent the read (a read sent before a partition can arrive after the heal).
   */
  public static final String ORIGIN_VIEW = "dstunnel-origin-view";

  /** Where session verticle {@code index} hands its idle sessions over to other nodes (cluster mode, leaving). */
  public static String handOver(int index) {
    return "dstunnel.session.handover." + index;
  }

  /** Cluster-wide: node {@code nodeId}'s inbox for requests forwarded to the sessions it owns. */
  public static String nodeInbox(String nodeId) {
    return "dstunnel.node." + nodeId;
  }

  /** Cluster-wide: node {@code nodeId}'s keeper of session copies (copy, adopt, check). */
  public static String copies(String nodeId) {
    return "dstunnel.copies." + nodeId;
  }

  /** Cluster-wide: node {@code nodeId}'s keeper of session copies, for bundles of steps. */
  public static String copyBundles(String nodeId) {
    return "dstunnel.copies.bundle." + nodeId;
  }

  /**
   * Cluster-wide: node {@code nodeId} says where a session lives, from what it heard (its
   * directory). Under the copy keeper's prefix, so one of a node's own; a node of a version before
   * it has none, and a question there fails with "no handlers" instead of waiting for an answer.
   */
  public static String whereIs(String nodeId) {
    return "dstunnel.copies.where." + nodeId;
  }

  /** Cluster-wide: node {@code nodeId} answers with the snapshots of the sessions it owns. */
  public static String nodeSessions(String nodeId) {
    return "dstunnel.admin.node." + nodeId;
  }

  /** Cluster-wide: node {@code nodeId} answers with its status (address, state, sessions, uptime, version). */
  public static String nodeStatus(String nodeId) {
    return "dstunnel.admin.status." + nodeId;
  }

  /**
   * Whether {@code address} is one of a single node's own (its inbox, copy keeper, admin answers):
   * only that node listens there.
   */
  public static boolean ofNode(String address) {
    return OF_NODE.stream().anyMatch(address::startsWith);
  }

  /** Cluster-wide, published: who owns a session now (so every node's directory cache learns it). */
  public static final String DIRECTORY = "dstunnel.directory";

  public static String session(String id) {
    return SESSION_PREFIX + id;
  }
}
