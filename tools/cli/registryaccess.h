// SPDX-License-Identifier: Apache-2.0
#pragma once
#include "cli.h"

#include <tomato/registry/zookeeper/zookeeperregistry.h>

#include <memory>

namespace Cli {

// The registry a URI names, for messages: without its credentials.
QString registryName(const QString &uri);
// The registry --name-service-uri names (any scheme: zookeeper://, static://), not started.
// Failure(UsageError) when none is given or the URI cannot be used.
std::unique_ptr<Tomato::Registry> openRegistry(const GlobalOptions &options);
// The ZooKeeper registry of list, watch and override, started, with empty protection off (a
// tool shows what is there). Failure(UsageError) for no URI or one of another scheme.
std::unique_ptr<Tomato::ZooKeeperRegistry> openZooKeeper(const GlobalOptions &options);
// The whole tree, read once within the command's deadline. Failure(Unreachable) when the
// registry cannot be reached in time.
QList<Tomato::RegistryServiceEntry> readTree(Tomato::ZooKeeperRegistry &registry, const GlobalOptions &options);
// "weight 5", "disabled", "weight 5, disabled"; "-" for none.
QString overrideText(const std::optional<Tomato::InstanceOverride> &value);

} // namespace Cli
