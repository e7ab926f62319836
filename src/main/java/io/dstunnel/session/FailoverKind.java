// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session;

/** Why a session moves to another backend; {@link #key} is what events and metrics say. */
public enum FailoverKind {
  /** The backend closed the connection while the client was owed an answer. */
  CLOSED("closed"),
  /** The connection failed: reset, refused, an I/O error. */
  ERROR("error"),
  /** The backend took a request and did not answer within the answer timeout. */
  HUNG("hung"),
  /** The backend had closed while nothing was owed; the session moves on the client's next write. */
  IDLE_CLOSE("idle-close"),
  /** The session's owner node died, stopped answering or left: this node took it over from its copy. */
  ADOPTED("adopted"),
  /** An operator's migrate or disable, or failback "migrate-idle": an unhurried move. */
  MIGRATE("migrate");

  private final String key;

  FailoverKind(String key) {
    this.key = key;
  }

  public String key() {
    return key;
  }
}
