// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QtCore/QObject>
#include <QtCore/QString>

namespace Sample {

// The simplest service: returns what it is given, prefixed with who answered. Running it
// twice does no harm, so a cluster client may retry it after a timeout (docs/CLUSTER.md).
class EchoService : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("microServiceId", "demo-rpc-service")
    Q_CLASSINFO("idempotent", "echo")
public:
    using QObject::QObject;
    Q_INVOKABLE virtual QString echo(const QString &message) = 0;
};

} // namespace Sample
