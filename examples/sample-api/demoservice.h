// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QtCore/QFuture>
#include <QtCore/QList>
#include <QtCore/QObject>
#include <QtCore/QString>
#include <QtCore/QStringList>
#include <QtCore/QVariantMap>

namespace Sample {

// A structured argument: travels as a map of its properties.
struct DemoRequest
{
    Q_GADGET
    Q_PROPERTY(QString text MEMBER text)
    Q_PROPERTY(QList<int> numbers MEMBER numbers)
    Q_PROPERTY(QList<QVariantMap> attributes MEMBER attributes)
public:
    QString text;
    QList<int> numbers;
    QList<QVariantMap> attributes;

    bool operator==(const DemoRequest &o) const
    {
        return text == o.text && numbers == o.numbers && attributes == o.attributes;
    }
};

// A service with a structured argument, a computation and a one-way notification.
class DemoService : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("microServiceId", "demo-rpc-service")
public:
    using QObject::QObject;
    // Describes the request: its text, the sum of its numbers, its attribute keys, and the
    // server that answered.
    Q_INVOKABLE virtual QString describe(const Sample::DemoRequest &request) = 0;
    // Returns the request with its numbers sorted and a "server" attribute appended.
    Q_INVOKABLE virtual Sample::DemoRequest normalize(const Sample::DemoRequest &request) = 0;
    Q_INVOKABLE virtual int sum(const QList<int> &values) = 0;
    // dividend / divisor; throws std::domain_error("division by zero") when divisor is 0
    // (callers get ApplicationException, remoteType "std::domain_error").
    Q_INVOKABLE virtual int divide(int dividend, int divisor) = 0;
    // Records an event; returns nothing.
    Q_INVOKABLE virtual void notify(const QString &event) = 0;
    // How many notify() calls this server has seen.
    Q_INVOKABLE virtual int notifications() const = 0;

    // Asynchronous methods (docs/ASYNC.md): each returns a QFuture, the server answers when it
    // finishes, and callers see the value (a stub's blocking form returns the future itself:
    // wait for it with Tomato::waitFor()). No business thread waits meanwhile.
    // EchoService's echo(text), upper-cased: the future of a call to another service, continued.
    Q_INVOKABLE virtual QFuture<QString> shout(const QString &text) = 0;
    // How many primes are below `limit` (at most 100,000,000), counted on QtConcurrent's pool;
    // a cancelled call stops counting.
    Q_INVOKABLE virtual QFuture<int> countPrimes(int limit) = 0;
    // EchoService's echo() of every text, all called at once, the answers in order.
    Q_INVOKABLE virtual QFuture<QStringList> echoAll(const QStringList &texts) = 0;
};

} // namespace Sample
