// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.config;

/** The version of this build, as the command line's {@code version} and the admin API report it. */
public final class Version {

  private Version() {
  }

  /** The version in the jar's manifest ("development" when run from classes, as in the tests). */
  public static String current() {
    String v = Version.class.getPackage().getImplementationVersion();
    return v == null ? "development" : v;
  }
}
