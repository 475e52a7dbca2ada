// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QtCore/QObject>
#include <QtCore/QString>

namespace Sample {

// What tomato-board-app shows: a remote caller changes the window.
class BoardService : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("microServiceId", "board-rpc-service")
    Q_CLASSINFO("idempotent", "show,shown")
public:
    using QObject::QObject;
    // Shows `text` in `color` (a CSS colour name or #rrggbb); true when it ran on the
    // window's own thread, as every call of this service does.
    Q_INVOKABLE virtual bool show(const QString &text, const QString &color) = 0;
    // The text shown now.
    Q_INVOKABLE virtual QString shown() const = 0;
};

} // namespace Sample
