// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

/**
 * The session side of the cluster: {@link io.dstunnel.session.copy.Replication} is what a session
 * verticle tells the cluster (the cluster implements it), and
 * {@link io.dstunnel.session.copy.ReplicatedSession} is all the cluster sees of a session. With
 * them: {@code Handout} (the bytes a read handed out) and {@code CutOff} (a copy holder out of
 * reach). Taking a session over from its copy is a message on the bus ({@code message.Adoption}).
 */
package io.dstunnel.session.copy;
