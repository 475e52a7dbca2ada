// SPDX-License-Identifier: Apache-2.0
#pragma once
// The service the in-process cluster tests call: every answer says which server gave it.
#include <QtCore/QObject>
#include <QtCore/QString>

namespace ClusterTest {

class ProbeService : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("microServiceId", "probe-service")
    Q_CLASSINFO("idempotent", "whoAmI,slowWho")
public:
    using QObject::QObject;
    // The server's name; `key` only feeds a consistent hash.
    Q_INVOKABLE virtual QString whoAmI(const QString &key) = 0;
    // Sleeps `ms` first (idempotent).
    Q_INVOKABLE virtual QString slowWho(int ms) = 0;
    // Sleeps `ms`, then answers; not idempotent (it "charges").
    Q_INVOKABLE virtual QString charge(int ms) = 0;
};

} // namespace ClusterTest
