// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QtCore/QByteArray>
#include <QtCore/QObject>
#include <QtCore/QString>

namespace Bench {

// The echo service of the reference workloads: W1, W2, W4 and W5 echo a 16-byte string,
// W3 a 1 MiB byte array. Both methods may run twice, so W5's cluster client retries them on
// another instance when a provider dies with calls in flight.
class EchoService : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("microServiceId", "tomato-bench")
    Q_CLASSINFO("idempotent", "echo,echoBytes")
public:
    using QObject::QObject;
    Q_INVOKABLE virtual QString echo(const QString &message) = 0;
    Q_INVOKABLE virtual QByteArray echoBytes(const QByteArray &data) = 0;
};

} // namespace Bench
