// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.framing;

/** The byte stream does not follow the framing it was declared to follow. */
public final class FramingException extends RuntimeException {

  public FramingException(String message) {
    super(message);
  }
}
