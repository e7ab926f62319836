// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

/**
 * The cluster (cluster mode only: a single node never touches it): sessions live on one node, their
 * owner, which copies each write to other members before answering it, and a request that reaches
 * another node is forwarded there; when the owner dies or is cut off, a copy holder adopts the
 * session. The entry type is {@link io.dstunnel.cluster.ClusterNode}, this node in the cluster (its
 * id, the members, the directory of who owns what, requests to other members); the wiring also
 * deploys the {@link io.dstunnel.cluster.ClusterVerticle} (the node's inbox and copy keeper), gives
 * the session verticles a {@link io.dstunnel.cluster.ClusterReplication} (the owner's side) and the
 * HTTP side a {@link io.dstunnel.cluster.SessionRouter} (forwarding to the owner). Before all that,
 * {@link io.dstunnel.cluster.ClusterSetup} builds the clustered Vert.x on Infinispan, with the member
 * port and the event bus over mutual TLS from the cluster's key ({@code ClusterKeys},
 * {@code JGroupsStack}): only nodes holding {@code cluster.secret} are members. One package, not
 * sub-packages: the owner's side, the keeper's side and forwarding all speak through the node's
 * package-private insides ({@code CopyOp}, {@code ClusterNode.ask}, the directory), which
 * sub-packages would have to make public.
 */
package io.dstunnel.cluster;
