// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

/**
 * What the sessions of one lane share: {@link io.dstunnel.session.lane.SessionServices}, the entry
 * type (the lane's event loop, the backend pool and connector, the event log, the settings, the
 * directory of callback channels), and the proxy-wide {@link io.dstunnel.session.lane.AnswerBudget}
 * of answer bytes not yet read. Below every part of a session, so each part takes what it needs
 * from here and none reaches up to the session.
 */
package io.dstunnel.session.lane;
