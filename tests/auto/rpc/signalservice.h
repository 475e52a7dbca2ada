// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QtCore/QObject>
#include <QtCore/QString>
#include <QtCore/QStringList>

namespace Test {

// What a remote signal carries besides plain values: a gadget.
struct Tick
{
    Q_GADGET
    Q_PROPERTY(int n MEMBER n)
    Q_PROPERTY(QString from MEMBER from)
public:
    int n = 0;
    QString from;
    bool operator==(const Tick &o) const { return n == o.n && from == o.from; }
};

// A service with remote signals (docs/SIGNALS.md): methods make the server emit them.
class SignalService : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("microServiceId", "signal-service")
public:
    using QObject::QObject;
    // Emits ticked(i, text, {i, name}) for i = 1..count, from the business thread that runs it.
    Q_INVOKABLE virtual int fire(int count, const QString &text) = 0;
    // Emits listChanged(items) once.
    Q_INVOKABLE virtual void announce(const QStringList &items) = 0;
    // The name this server was given, to tell instances apart.
    Q_INVOKABLE virtual QString name() = 0;

Q_SIGNALS:
    void ticked(int n, const QString &text, const Test::Tick &tick);
    void listChanged(const QStringList &items);
};

} // namespace Test
