"""Translations of the participant pages: English text -> (Spanish, Portuguese).

Also the user-facing messages of the services these pages call (their English text is the key), so
that an error shown on a page is in the page's language. `tests/portal/test_i18n.py` checks that
every string the templates and the portal use is here, translated, with the same placeholders."""

from __future__ import annotations

from portal.i18n import register_messages

MESSAGES: dict[str, tuple[str, str]] = {
    "Something went wrong": ("Algo salió mal", "Algo deu errado"),
    "We could not do that": ("No pudimos hacerlo", "Não foi possível fazer isso"),
    "Back to the start page": ("Volver a la página de inicio", "Voltar à página inicial"),
    "Please correct the fields marked below.": (
        "Corrija los campos marcados abajo.",
        "Corrija os campos marcados abaixo.",
    ),
    "Skip to content": ("Saltar al contenido", "Pular para o conteúdo"),
    "Main": ("Principal", "Principal"),
    "My profile": ("Mi perfil", "Meu perfil"),
    "Participants": ("Participantes", "Participantes"),
    "Requests": ("Solicitudes", "Solicitações"),
    "Agenda": ("Agenda", "Agenda"),
    "My data": ("Mis datos", "Meus dados"),
    "Log out": ("Salir", "Sair"),
    "Language": ("Idioma", "Idioma"),
    "Change": ("Cambiar", "Mudar"),
    "Rueda: business matchmaking.": ("Rueda: ruedas de negocios.", "Rueda: rodadas de negócios."),
    "Privacy notice": ("Aviso de privacidad", "Aviso de privacidade"),
    "Your profile is saved.": ("Su perfil quedó guardado.", "Seu perfil foi salvo."),
    "The schedule is built: offers, demands and availability can no longer change.": (
        "La agenda ya está construida: la oferta, la demanda y la disponibilidad ya no pueden cambiar.",
        "A agenda já foi montada: ofertas, demandas e disponibilidade não podem mais mudar.",
    ),
    "Full name": ("Nombre completo", "Nome completo"),
    "Job title": ("Cargo", "Cargo"),
    "Phone": ("Teléfono", "Telefone"),
    "Language for emails and pages": (
        "Idioma de los correos y las páginas",
        "Idioma dos e-mails e das páginas",
    ),
    "Time zone of your agenda": ("Zona horaria de su agenda", "Fuso horário da sua agenda"),
    "Languages you speak in meetings": (
        "Idiomas que habla en las reuniones",
        "Idiomas que você fala nas reuniões",
    ),
    "What you offer: HS codes": ("Lo que ofrece: códigos SA (HS)", "O que você oferece: códigos SH (HS)"),
    "2, 4 or 6 digits separated by commas, like 0901, 1801.": (
        "2, 4 o 6 dígitos separados por comas, como 0901, 1801.",
        "2, 4 ou 6 dígitos separados por vírgulas, como 0901, 1801.",
    ),
    "What you offer, in words": ("Lo que ofrece, en palabras", "O que você oferece, em palavras"),
    "What you seek: HS codes": ("Lo que busca: códigos SA (HS)", "O que você procura: códigos SH (HS)"),
    "What you seek, in words": ("Lo que busca, en palabras", "O que você procura, em palavras"),
    "Slots in which you cannot meet": (
        "Franjas en las que no puede reunirse",
        "Horários em que você não pode se reunir",
    ),
    "Times at the venue ({zone}); yours ({own}) below each.": (
        "Horas del lugar del evento ({zone}); las suyas ({own}) debajo de cada una.",
        "Horários do local do evento ({zone}); os seus ({own}) abaixo de cada um.",
    ),
    "Your time: {when}": ("Su hora: {when}", "Seu horário: {when}"),
    "Times in your time zone ({zone}).": (
        "Horas en su zona horaria ({zone}).",
        "Horários no seu fuso horário ({zone}).",
    ),
    "Save my profile": ("Guardar mi perfil", "Salvar meu perfil"),
    "Find HS codes": ("Buscar códigos SA (HS)", "Buscar códigos SH (HS)"),
    "Search by product or code": ("Buscar por producto o código", "Buscar por produto ou código"),
    "coffee, 09, textiles...": ("café, 09, textiles...", "café, 09, têxteis..."),
    "Search": ("Buscar", "Buscar"),
    "I offer this": ("Lo ofrezco", "Eu ofereço"),
    "I seek this": ("Lo busco", "Eu procuro"),
    "No chapter matches. You can also type a 4 or 6-digit code above.": (
        "Ningún capítulo coincide. También puede escribir arriba un código de 4 o 6 dígitos.",
        "Nenhum capítulo corresponde. Você também pode digitar acima um código de 4 ou 6 dígitos.",
    ),
    "Your codes": ("Sus códigos", "Seus códigos"),
    "You offer": ("Ofrece", "Você oferece"),
    "You seek": ("Busca", "Você procura"),
    "Remove {code}": ("Quitar {code}", "Remover {code}"),
    "none yet": ("ninguno todavía", "nenhum ainda"),
    "Business matchmaking events": ("Ruedas de negocios", "Rodadas de negócios"),
    "Register for an event, choose whom you want to meet, and find your agenda here.": (
        "Inscríbase en un evento, elija con quién quiere reunirse y encuentre aquí su agenda.",
        "Inscreva-se em um evento, escolha com quem quer se reunir e encontre aqui a sua agenda.",
    ),
    "Open for registration": ("Inscripciones abiertas", "Inscrições abertas"),
    "Register": ("Inscribirme", "Inscrever-me"),
    "Sign in": ("Ingresar", "Entrar"),
    "No event is open for registration right now.": (
        "Ningún evento tiene inscripciones abiertas ahora.",
        "Nenhum evento está com inscrições abertas agora.",
    ),
    "My agenda": ("Mi agenda", "Minha agenda"),
    "You host at table {table}.": ("Usted atiende en la mesa {table}.", "Você recebe na mesa {table}."),
    "Your agenda will appear here when the organizers publish the schedule.": (
        "Su agenda aparecerá aquí cuando los organizadores publiquen la programación.",
        "Sua agenda aparecerá aqui quando os organizadores publicarem a programação.",
    ),
    "You have no meetings in the schedule.": (
        "No tiene reuniones en la programación.",
        "Você não tem reuniões na programação.",
    ),
    "Calendar": ("Calendario", "Calendário"),
    "Download .ics": ("Descargar .ics", "Baixar .ics"),
    "Printable agenda": ("Agenda para imprimir", "Agenda para imprimir"),
    "Subscription link (keeps your calendar up to date)": (
        "Enlace de suscripción (mantiene su calendario al día)",
        "Link de assinatura (mantém seu calendário atualizado)",
    ),
    "Keep it private: anyone with this link sees your agenda.": (
        "Manténgalo en privado: quien tenga este enlace ve su agenda.",
        "Mantenha-o privado: quem tiver este link vê a sua agenda.",
    ),
    "Subscribe": ("Suscribirme", "Assinar"),
    "Check-in code": ("Código de registro de llegada", "Código de credenciamento"),
    "Show this code at the check-in desk.": (
        "Muestre este código en la mesa de registro.",
        "Mostre este código no credenciamento.",
    ),
    "This is what the event keeps about you. You can correct it in your profile.": (
        "Esto es lo que el evento guarda sobre usted. Puede corregirlo en su perfil.",
        "Isto é o que o evento guarda sobre você. Você pode corrigir no seu perfil.",
    ),
    "Download my data (JSON)": ("Descargar mis datos (JSON)", "Baixar meus dados (JSON)"),
    "Correct my profile": ("Corregir mi perfil", "Corrigir meu perfil"),
    "Registration": ("Inscripción", "Inscrição"),
    "Email address": ("Correo electrónico", "E-mail"),
    "Time zone": ("Zona horaria", "Fuso horário"),
    "Organization": ("Organización", "Organização"),
    "Consent given": ("Autorización dada", "Consentimento dado"),
    "Activity": ("Actividad", "Atividade"),
    "Requests: {count}": ("Solicitudes: {count}", "Solicitações: {count}"),
    "Meetings: {count}": ("Reuniones: {count}", "Reuniões: {count}"),
    "Survey answers: {count}": ("Respuestas de encuestas: {count}", "Respostas de pesquisas: {count}"),
    "Emails sent to you: {count}": ("Correos enviados a usted: {count}", "E-mails enviados a você: {count}"),
    "Delete my data": ("Eliminar mis datos", "Excluir meus dados"),
    "You asked for your data to be deleted on {date}. The organizers will confirm by email.": (
        "Usted pidió eliminar sus datos el {date}. Los organizadores lo confirmarán por correo.",
        "Você pediu a exclusão dos seus dados em {date}. Os organizadores confirmarão por e-mail.",
    ),
    "The organizers will delete your data and confirm by email. Your meetings will be cancelled.": (
        "Los organizadores eliminarán sus datos y lo confirmarán por correo. Sus reuniones se cancelarán.",
        "Os organizadores excluirão seus dados e confirmarão por e-mail. Suas reuniões serão canceladas.",
    ),
    "Ask to delete my data": ("Pedir que eliminen mis datos", "Pedir a exclusão dos meus dados"),
    "Sign in to {event}": ("Ingresar a {event}", "Entrar em {event}"),
    "We will email you a link to sign in. No password needed.": (
        "Le enviaremos por correo un enlace para ingresar. No necesita contraseña.",
        "Enviaremos por e-mail um link para entrar. Não precisa de senha.",
    ),
    "Email me a sign-in link": ("Enviarme un enlace de ingreso", "Enviar-me um link de acesso"),
    "Not registered yet?": ("¿Aún no se ha inscrito?", "Ainda não se inscreveu?"),
    "Filters": ("Filtros", "Filtros"),
    "Role": ("Rol", "Papel"),
    "Any": ("Cualquiera", "Qualquer"),
    "Sellers": ("Vendedores", "Vendedores"),
    "Buyers": ("Compradores", "Compradores"),
    "Buyers and sellers": ("Compradores y vendedores", "Compradores e vendedores"),
    "Country": ("País", "País"),
    "Sector (ISIC)": ("Sector (CIIU)", "Setor (CNAE/ISIC)"),
    "HS chapter": ("Capítulo SA (HS)", "Capítulo SH (HS)"),
    "Filter": ("Filtrar", "Filtrar"),
    "Clear filters": ("Quitar filtros", "Limpar filtros"),
    "{shown} of {total} participants": (
        "{shown} de {total} participantes",
        "{shown} de {total} participantes",
    ),
    "Suggested for you": ("Sugerido para usted", "Sugerido para você"),
    "Sells": ("Vende", "Vende"),
    "Buys": ("Compra", "Compra"),
    "Buys and sells": ("Compra y vende", "Compra e vende"),
    "Speaks": ("Habla", "Fala"),
    "Offers": ("Ofrece", "Oferece"),
    "Seeks": ("Busca", "Procura"),
    "Why": ("Por qué", "Por quê"),
    "Request": ("Solicitud", "Solicitação"),
    "waiting for an answer": ("esperando respuesta", "aguardando resposta"),
    "accepted": ("aceptada", "aceita"),
    "declined": ("rechazada", "recusada"),
    "expired": ("vencida", "expirada"),
    "See requests": ("Ver solicitudes", "Ver solicitações"),
    "Ask for a meeting": ("Pedir una reunión", "Pedir uma reunião"),
    "How much do you want this meeting?": (
        "¿Cuánto le interesa esta reunión?",
        "Quanto você quer esta reunião?",
    ),
    "Must meet": ("Indispensable", "Indispensável"),
    "Nice to meet": ("Deseable", "Desejável"),
    "Note for them (optional)": ("Nota para la contraparte (opcional)", "Nota para a outra parte (opcional)"),
    "Send request": ("Enviar solicitud", "Enviar solicitação"),
    "Pages": ("Páginas", "Páginas"),
    "Previous": ("Anterior", "Anterior"),
    "Next": ("Siguiente", "Próxima"),
    "Page {page} of {pages}": ("Página {page} de {pages}", "Página {page} de {pages}"),
    "Nobody matches these filters.": (
        "Nadie coincide con estos filtros.",
        "Ninguém corresponde a estes filtros.",
    ),
    "Press the button to sign in on this device.": (
        "Pulse el botón para ingresar en este dispositivo.",
        "Toque no botão para entrar neste dispositivo.",
    ),
    "asked by a participant": ("pedida por un participante", "pedida por um participante"),
    "suggested by the matcher": ("sugerida por el sistema", "sugerida pelo sistema"),
    "set by the organizers": ("definida por los organizadores", "definida pelos organizadores"),
    "Your request was sent.": ("Su solicitud fue enviada.", "Sua solicitação foi enviada."),
    "Your answer is saved.": ("Su respuesta quedó guardada.", "Sua resposta foi salva."),
    "Made to you": ("Recibidas", "Recebidas"),
    "Accept": ("Aceptar", "Aceitar"),
    "Decline": ("Rechazar", "Recusar"),
    "Nobody has asked you for a meeting yet.": (
        "Nadie le ha pedido una reunión todavía.",
        "Ninguém pediu uma reunião a você ainda.",
    ),
    "Made by you": ("Enviadas", "Enviadas"),
    "You have not asked anyone yet.": (
        "Todavía no le ha pedido reunión a nadie.",
        "Você ainda não pediu reunião a ninguém.",
    ),
    "See the participants": ("Ver los participantes", "Ver os participantes"),
    "The organizers of each event are responsible for the personal data you give when you register. They process it to run the business matchmaking event: to suggest and schedule meetings with other participants, to send you your agenda and reminders, to ask for your feedback after the event and in follow-ups, and to report aggregated results.": (
        "Los organizadores de cada evento son los responsables de los datos personales que usted entrega al inscribirse. Los tratan para realizar la rueda de negocios: sugerir y programar reuniones con otros participantes, enviarle su agenda y recordatorios, pedirle su opinión después del evento y en los seguimientos, e informar resultados agregados.",
        "Os organizadores de cada evento são os responsáveis pelos dados pessoais que você fornece ao se inscrever. Eles os tratam para realizar a rodada de negócios: sugerir e agendar reuniões com outros participantes, enviar sua agenda e lembretes, pedir sua opinião após o evento e nos acompanhamentos, e relatar resultados agregados.",
    ),
    "Other participants of the same event see your name, job title, organization, country, city, languages and what you offer and seek. They never see your email address or phone number.": (
        "Los demás participantes del mismo evento ven su nombre, cargo, organización, país, ciudad, idiomas y lo que ofrece y busca. Nunca ven su correo electrónico ni su teléfono.",
        "Os demais participantes do mesmo evento veem seu nome, cargo, organização, país, cidade, idiomas e o que você oferece e procura. Nunca veem seu e-mail nem seu telefone.",
    ),
    "This processing follows Colombia's Law 1581 of 2012 on personal data and the EU General Data Protection Regulation. You can see and download your data, correct it in your profile, and ask for it to be deleted from the page My data.": (
        "Este tratamiento sigue la Ley 1581 de 2012 de Colombia sobre protección de datos personales y el Reglamento General de Protección de Datos de la UE. Puede ver y descargar sus datos, corregirlos en su perfil y pedir que se eliminen desde la página Mis datos.",
        "Este tratamento segue a Lei 1581 de 2012 da Colômbia sobre dados pessoais e o Regulamento Geral sobre a Proteção de Dados da UE. Você pode ver e baixar seus dados, corrigi-los no seu perfil e pedir a exclusão na página Meus dados.",
    ),
    "Your meetings": ("Sus reuniones", "Suas reuniões"),
    "When": ("Cuándo", "Quando"),
    "Table": ("Mesa", "Mesa"),
    "With": ("Con", "Com"),
    "Add to calendar": ("Agregar al calendario", "Adicionar ao calendário"),
    "Business after {months} months": ("Negocios a los {months} meses", "Negócios após {months} meses"),
    "How did your meetings go?": ("¿Cómo le fue en sus reuniones?", "Como foram suas reuniões?"),
    "Open until {date}. You can correct your answers until then.": (
        "Abierta hasta el {date}. Puede corregir sus respuestas hasta entonces.",
        "Aberta até {date}. Você pode corrigir suas respostas até lá.",
    ),
    "Thank you! Your answers are saved.": (
        "¡Gracias! Sus respuestas quedaron guardadas.",
        "Obrigado! Suas respostas foram salvas.",
    ),
    "Saved. Some questions are still unanswered.": (
        "Guardado. Aún quedan preguntas sin responder.",
        "Salvo. Ainda há perguntas sem resposta.",
    ),
    "Did the meeting take place?": ("¿Se realizó la reunión?", "A reunião aconteceu?"),
    "Yes": ("Sí", "Sim"),
    "No": ("No", "Não"),
    "How interesting was it? (1 = not at all, 5 = very)": (
        "¿Qué tan interesante fue? (1 = nada, 5 = mucho)",
        "Quão interessante foi? (1 = nada, 5 = muito)",
    ),
    "Business expected now (amount)": (
        "Negocios esperados de inmediato (monto)",
        "Negócios esperados de imediato (valor)",
    ),
    "Business expected within 12 months": (
        "Negocios esperados en 12 meses",
        "Negócios esperados em 12 meses",
    ),
    "More detail (optional)": ("Más detalle (opcional)", "Mais detalhes (opcional)"),
    "Within 3 months": ("En 3 meses", "Em 3 meses"),
    "Within 6 months": ("En 6 meses", "Em 6 meses"),
    "Currency (ISO code)": ("Moneda (código ISO)", "Moeda (código ISO)"),
    "US$ per unit, if not US$": ("US$ por unidad, si no es US$", "US$ por unidade, se não for US$"),
    "Next steps agreed": ("Próximos pasos acordados", "Próximos passos combinados"),
    "The event as a whole": ("El evento en general", "O evento como um todo"),
    "How satisfied are you with the event? (1 to 5)": (
        "¿Qué tan satisfecho está con el evento? (1 a 5)",
        "Quão satisfeito você está com o evento? (1 a 5)",
    ),
    "How likely are you to recommend it to a colleague? (0 to 10)": (
        "¿Qué tan probable es que lo recomiende a un colega? (0 a 10)",
        "Qual a probabilidade de você recomendá-lo a um colega? (0 a 10)",
    ),
    "Comments (optional)": ("Comentarios (opcional)", "Comentários (opcional)"),
    "List the business closed since the event, by product. Leave it empty if there was none: that is an answer too.": (
        "Indique los negocios cerrados desde el evento, por producto. Déjelo vacío si no hubo: eso también es una respuesta.",
        "Informe os negócios fechados desde o evento, por produto. Deixe em branco se não houve: isso também é uma resposta.",
    ),
    "Product {number}": ("Producto {number}", "Produto {number}"),
    "HS code": ("Código SA (HS)", "Código SH (HS)"),
    "Amount closed": ("Monto cerrado", "Valor fechado"),
    "Amount exported": ("Monto exportado", "Valor exportado"),
    "Send my answers": ("Enviar mis respuestas", "Enviar minhas respostas"),
    "Check your email": ("Revise su correo", "Verifique seu e-mail"),
    "If the address is registered for {event}, we have sent it a sign-in link. It works once and expires soon.": (
        "Si la dirección está inscrita en {event}, le enviamos un enlace de ingreso. Sirve una sola vez y vence pronto.",
        "Se o endereço estiver inscrito em {event}, enviamos a ele um link de acesso. Ele funciona uma única vez e expira em breve.",
    ),
    "Did not arrive? Check your spam folder, or ask for a new link.": (
        "¿No llegó? Revise la carpeta de correo no deseado o pida un enlace nuevo.",
        "Não chegou? Verifique a pasta de spam ou peça um novo link.",
    ),
    "If the address is registered for an event, we have sent it a sign-in link. It works once and expires soon.": (
        "Si la dirección está inscrita en un evento, le enviamos un enlace de ingreso. Sirve una sola vez y vence pronto.",
        "Se o endereço estiver inscrito em um evento, enviamos a ele um link de acesso. Ele funciona uma única vez e expira em breve.",
    ),
    "Ask for a new link": ("Pedir un enlace nuevo", "Pedir um novo link"),
    "Register for {event}": ("Inscripción en {event}", "Inscrição em {event}"),
    "Registration for this event is closed.": (
        "Las inscripciones de este evento están cerradas.",
        "As inscrições deste evento estão encerradas.",
    ),
    "Fields marked * are required.": (
        "Los campos marcados con * son obligatorios.",
        "Os campos marcados com * são obrigatórios.",
    ),
    "Your sign-in links and your agenda arrive here.": (
        "Aquí le llegarán los enlaces de ingreso y su agenda.",
        "Os links de acesso e a sua agenda chegarão aqui.",
    ),
    "Tax id (NIT, CNPJ, VAT)": (
        "Identificación tributaria (NIT, CNPJ, VAT)",
        "Identificação fiscal (NIT, CNPJ, VAT)",
    ),
    "Choose a country": ("Elija un país", "Escolha um país"),
    "I come to": ("Vengo a", "Venho para"),
    "Sell": ("Vender", "Vender"),
    "Buy": ("Comprar", "Comprar"),
    "Buy and sell": ("Comprar y vender", "Comprar e vender"),
    "Where you will read your agenda, like America/Bogota.": (
        "Donde leerá su agenda, como America/Bogota.",
        "Onde você lerá sua agenda, como America/Sao_Paulo.",
    ),
    "2, 4 or 6 digits separated by commas, like 0901, 1801. You can search codes in your profile later.": (
        "2, 4 o 6 dígitos separados por comas, como 0901, 1801. Luego puede buscar códigos en su perfil.",
        "2, 4 ou 6 dígitos separados por vírgulas, como 0901, 1801. Depois você pode buscar códigos no seu perfil.",
    ),
    "Your personal data": ("Sus datos personales", "Seus dados pessoais"),
    "The organizers of {event} will process your data to run the event: to suggest and schedule meetings with other participants, to send you your agenda and reminders, and to ask for your feedback afterwards. Other participants see your name, organization and products, never your email or phone. You can see, correct, export and ask to delete your data at any time (Colombia's Law 1581 of 2012, EU GDPR).": (
        "Los organizadores de {event} tratarán sus datos para realizar el evento: sugerir y programar reuniones con otros participantes, enviarle su agenda y recordatorios, y pedirle su opinión después. Los demás participantes ven su nombre, organización y productos, nunca su correo ni su teléfono. Puede ver, corregir, exportar y pedir que se eliminen sus datos en cualquier momento (Ley 1581 de 2012 de Colombia, RGPD de la UE).",
        "Os organizadores de {event} tratarão seus dados para realizar o evento: sugerir e agendar reuniões com outros participantes, enviar sua agenda e lembretes e pedir sua opinião depois. Os demais participantes veem seu nome, organização e produtos, nunca seu e-mail nem seu telefone. Você pode ver, corrigir, exportar e pedir a exclusão dos seus dados a qualquer momento (Lei 1581 de 2012 da Colômbia, RGPD da UE).",
    ),
    "I authorize the processing of my personal data for these purposes.": (
        "Autorizo el tratamiento de mis datos personales para estas finalidades.",
        "Autorizo o tratamento dos meus dados pessoais para estas finalidades.",
    ),
    "Registered already?": ("¿Ya se inscribió?", "Já se inscreveu?"),
    "Back to my agenda": ("Volver a mi agenda", "Voltar à minha agenda"),
    "Use your browser's print command.": (
        "Use la opción de imprimir de su navegador.",
        "Use a opção de imprimir do seu navegador.",
    ),
    "Enter a valid email address, like name@company.com.": (
        "Escriba un correo electrónico válido, como nombre@empresa.com.",
        "Digite um e-mail válido, como nome@empresa.com.",
    ),
    "This sign-in link is not valid or has expired. Ask for a new one.": (
        "Este enlace de ingreso no es válido o ya venció. Pida uno nuevo.",
        "Este link de acesso não é válido ou expirou. Peça um novo.",
    ),
    "HS codes have 2, 4 or 6 digits, like 0901.": (
        "Los códigos SA (HS) tienen 2, 4 o 6 dígitos, como 0901.",
        "Os códigos SH (HS) têm 2, 4 ou 6 dígitos, como 0901.",
    ),
    "Survey": ("Encuesta", "Pesquisa"),
    "Enter your full name (at least 2 characters).": (
        "Escriba su nombre completo (al menos 2 caracteres).",
        "Digite seu nome completo (pelo menos 2 caracteres).",
    ),
    "Enter the name of your organization (at least 2 characters).": (
        "Escriba el nombre de su organización (al menos 2 caracteres).",
        "Digite o nome da sua organização (pelo menos 2 caracteres).",
    ),
    "Choose whether you sell, buy or both.": (
        "Elija si vende, compra o ambos.",
        "Escolha se você vende, compra ou ambos.",
    ),
    "Choose the country of your organization.": (
        "Elija el país de su organización.",
        "Escolha o país da sua organização.",
    ),
    "Choose one of the languages in the list.": (
        "Elija uno de los idiomas de la lista.",
        "Escolha um dos idiomas da lista.",
    ),
    "Choose a time zone from the list, like America/Bogota.": (
        "Elija una zona horaria de la lista, como America/Bogota.",
        "Escolha um fuso horário da lista, como America/Sao_Paulo.",
    ),
    "To register you must authorize the processing of your data.": (
        "Para inscribirse debe autorizar el tratamiento de sus datos.",
        "Para se inscrever você deve autorizar o tratamento dos seus dados.",
    ),
    "Choose languages from the list.": ("Elija idiomas de la lista.", "Escolha idiomas da lista."),
    "Choose slots from the list.": ("Elija franjas de la lista.", "Escolha horários da lista."),
    "Remove line breaks, control characters and direction marks from this field.": (
        "Quite de este campo los saltos de línea, los caracteres de control y las marcas de dirección.",
        "Remova deste campo as quebras de linha, os caracteres de controle e as marcas de direção.",
    ),
    "Use at most {limit} characters.": (
        "Use como máximo {limit} caracteres.",
        "Use no máximo {limit} caracteres.",
    ),
    "Check this field: it is too long or not valid.": (
        "Revise este campo: es demasiado largo o no es válido.",
        "Verifique este campo: é longo demais ou não é válido.",
    ),
    "This request could not be carried out.": (
        "No se pudo atender esta solicitud.",
        "Não foi possível atender esta solicitação.",
    ),
    "You cannot open this page.": ("Usted no puede abrir esta página.", "Você não pode abrir esta página."),
    "This page does not exist, or it is not yours.": (
        "Esta página no existe o no es suya.",
        "Esta página não existe ou não é sua.",
    ),
    "This conflicts with the current state.": (
        "Esto contradice el estado actual.",
        "Isto contradiz o estado atual.",
    ),
    "Too many attempts. Please wait a few minutes and try again.": (
        "Demasiados intentos. Espere unos minutos y vuelva a intentarlo.",
        "Tentativas demais. Aguarde alguns minutos e tente novamente.",
    ),
    "Your form expired. Go back, reload the page and send it again.": (
        "Su formulario venció. Vuelva atrás, recargue la página y envíelo de nuevo.",
        "Seu formulário expirou. Volte, recarregue a página e envie novamente.",
    ),
    "Write an amount with digits only, like 25000.": (
        "Escriba un monto solo con dígitos, como 25000.",
        "Digite um valor só com dígitos, como 25000.",
    ),
}

# The services' user-facing messages (their English text), shown on pages in the page's language.
SERVICE_MESSAGES: dict[str, tuple[str, str]] = {
    "no such participant at this event": (
        "no hay tal participante en este evento",
        "não há tal participante neste evento",
    ),
    "you cannot ask yourself for a meeting": (
        "no puede pedirse una reunión a sí mismo",
        "você não pode pedir uma reunião a si mesmo",
    ),
    "requests for this event are closed": (
        "las solicitudes de este evento están cerradas",
        "as solicitações deste evento estão encerradas",
    ),
    "the rules of this event do not let you ask this participant for a meeting": (
        "las reglas de este evento no le permiten pedirle una reunión a este participante",
        "as regras deste evento não permitem que você peça uma reunião a este participante",
    ),
    "you already asked this participant for a meeting": (
        "ya le pidió una reunión a este participante",
        "você já pediu uma reunião a este participante",
    ),
    "there is already a request between you two: answer it in your requests": (
        "ya hay una solicitud entre ustedes dos: respóndala en sus solicitudes",
        "já existe uma solicitação entre vocês dois: responda-a nas suas solicitações",
    ),
    "no such request among yours": (
        "no hay tal solicitud entre las suyas",
        "não há tal solicitação entre as suas",
    ),
    "the deadline to answer this request has passed": (
        "ya pasó el plazo para responder esta solicitud",
        "o prazo para responder esta solicitação já passou",
    ),
    "this account is no longer active": ("esta cuenta ya no está activa", "esta conta não está mais ativa"),
    "this survey link is not valid; use the link in your most recent survey email": (
        "este enlace de encuesta no es válido; use el enlace de su correo de encuesta más reciente",
        "este link de pesquisa não é válido; use o link do seu e-mail de pesquisa mais recente",
    ),
    "this survey has closed; thank you for your time": (
        "esta encuesta ya cerró; gracias por su tiempo",
        "esta pesquisa foi encerrada; obrigado pelo seu tempo",
    ),
    "the schedule is built: offers, demands and availability can no longer change": (
        "la agenda ya está construida: la oferta, la demanda y la disponibilidad ya no pueden cambiar",
        "a agenda já foi montada: ofertas, demandas e disponibilidade não podem mais mudar",
    ),
    "no such meeting among yours": ("no hay tal reunión entre las suyas", "não há tal reunião entre as suas"),
    "answer yes or no": ("responda sí o no", "responda sim ou não"),
    "give a whole number from 1 to 5": ("dé un número entero de 1 a 5", "informe um número inteiro de 1 a 5"),
    "give a whole number from 0 to 10": (
        "dé un número entero de 0 a 10",
        "informe um número inteiro de 0 a 10",
    ),
    "keep it under 500 characters": ("use menos de 500 caracteres", "use menos de 500 caracteres"),
    "leave empty: the meeting did not take place": (
        "déjelo vacío: la reunión no se realizó",
        "deixe em branco: a reunião não aconteceu",
    ),
    "rate your satisfaction (1 to 5)": ("califique su satisfacción (1 a 5)", "avalie sua satisfação (1 a 5)"),
    "give the product's HS code (2, 4 or 6 digits)": (
        "dé el código SA (HS) del producto (2, 4 o 6 dígitos)",
        "informe o código SH (HS) do produto (2, 4 ou 6 dígitos)",
    ),
    "give the amount closed or exported": (
        "dé el monto cerrado o exportado",
        "informe o valor fechado ou exportado",
    ),
    "remove control characters and direction marks": (
        "quite los caracteres de control y las marcas de dirección",
        "remova os caracteres de controle e as marcas de direção",
    ),
    "give the amount in whole cents": (
        "dé el monto en centavos enteros",
        "informe o valor em centavos inteiros",
    ),
    "cannot be negative": ("no puede ser negativo", "não pode ser negativo"),
    "is implausibly large; check the number of digits": (
        "es demasiado grande; revise la cantidad de dígitos",
        "é grande demais; verifique a quantidade de dígitos",
    ),
    "give an ISO 4217 code such as USD, EUR or COP": (
        "dé un código ISO 4217 como USD, EUR o COP",
        "informe um código ISO 4217 como USD, EUR ou BRL",
    ),
    "give a positive rate: how many US$ one unit is worth": (
        "dé una tasa positiva: cuántos US$ vale una unidad",
        "informe uma taxa positiva: quantos US$ vale uma unidade",
    ),
    "not one of your meetings at this event": (
        "no es una de sus reuniones en este evento",
        "não é uma das suas reuniões neste evento",
    ),
    "answered twice in one submission": (
        "respondida dos veces en un mismo envío",
        "respondida duas vezes no mesmo envio",
    ),
}

register_messages(MESSAGES)
register_messages(SERVICE_MESSAGES)
