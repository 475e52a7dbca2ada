// SPDX-License-Identifier: Apache-2.0
#pragma once
// An interface whose methods return QFuture<T> (docs/ASYNC.md): the server answers each call
// when its future finishes, without holding a business thread meanwhile.
#include "testservice.h"

#include <QtCore/QFuture>
#include <QtCore/QList>
#include <QtCore/QObject>
#include <QtCore/QString>

namespace Test {

class AsyncService : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("microServiceId", "test-async")
public:
    using QObject::QObject;
    // `value`, `ms` milliseconds later (a QPromise finished by a timer: no thread waits).
    Q_INVOKABLE virtual QFuture<int> later(int value, int ms) = 0;
    // 1 + 2 + ... + n, computed on QtConcurrent's pool.
    Q_INVOKABLE virtual QFuture<qint64> sumTo(int n) = 0;
    // The downstream instance's later(value, ms): the stub's own future, returned as it is.
    Q_INVOKABLE virtual QFuture<int> relay(int value, int ms) = 0;
    // later(v, ms) downstream for each value at once, the answers added up.
    Q_INVOKABLE virtual QFuture<int> fanOut(const QList<int> &values, int ms) = 0;
    // A future that fails with std::runtime_error(message) after `ms`.
    Q_INVOKABLE virtual QFuture<QString> fail(const QString &message, int ms) = 0;
    // Nothing, `ms` milliseconds later.
    Q_INVOKABLE virtual QFuture<void> pause(int ms) = 0;
    // A gadget, at once (a future finished before the method returns).
    Q_INVOKABLE virtual QFuture<Test::Item> item(const QString &name, int count) = 0;
    // Its results as a list, computed by QtConcurrent::mapped: a fan-out on the pool.
    Q_INVOKABLE virtual QFuture<QList<int>> squares(const QList<int> &values) = 0;
    // A future that only ends when it is cancelled.
    Q_INVOKABLE virtual QFuture<int> never() = 0;
};

} // namespace Test
