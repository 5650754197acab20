import type { ReactNode } from 'react';

/** A titled card with a one-line plain-language explanation under the title. */
export function Card({ title, help, className, children, id }: { title: ReactNode; help?: ReactNode; className?: string; children: ReactNode; id: string }) {
  return (
    <section className={`card${className ? ` ${className}` : ''}`} aria-labelledby={id}>
      <header className="card__header">
        <h2 className="card__title" id={id}>
          {title}
        </h2>
        {help && <p className="card__help">{help}</p>}
      </header>
      {children}
    </section>
  );
}
